# The README's Ruby example: version, options and the error model.
require "llmkit"

puts "llmkit #{Llmkit.version}"
options = Llmkit::Options.new
options["model"] = "gpt-4o-mini"
puts "model = #{options["model"]}"
begin
  options.get("temperature")
rescue Llmkit::Error => e
  puts "error #{e.status_name}: #{e.message}"
end
options.close
