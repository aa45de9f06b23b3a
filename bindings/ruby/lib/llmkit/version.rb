module Llmkit
  # The gem's version: that of the llmkit C API it wraps.
  VERSION = "0.1.0"
end
