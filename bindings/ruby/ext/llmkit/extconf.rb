# Builds Llmkit::Native from the SWIG wrapper that `make` (or the gem's
# packager) generated next to this file, against llmkit found by pkg-config.
require "mkmf"

unless pkg_config("llmkit") && have_header("llmkit.h")
  abort <<~MSG
    llmkit was not found through pkg-config. Install llmkit, or point
    PKG_CONFIG_PATH at <prefix>/lib/pkgconfig of an installed copy.
  MSG
end

# The wrapper is C++. SWIG's Ruby runtime hands Ruby ANYARGS callbacks,
# which Ruby's C++ headers deprecate: warnings about SWIG's code, not ours.
$CXXFLAGS << " -Wno-deprecated-declarations"

create_makefile("llmkit/native")
