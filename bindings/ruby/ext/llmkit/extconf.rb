# Builds Llmkit::Native from the SWIG wrapper that `make` (or the gem's
# packager) generated next to this file, against llmkit found by pkg-config.
require "mkmf"

unless pkg_config("llmkit") && have_header("llmkit.h")
  abort <<~MSG
    llmkit was not found through pkg-config. Install llmkit, or point
    PKG_CONFIG_PATH at <prefix>/lib/pkgconfig of an installed copy.
  MSG
end

create_makefile("llmkit/native")
