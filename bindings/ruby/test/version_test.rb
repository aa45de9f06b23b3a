require "test_helper"

class VersionTest < Minitest::Test
  HEADER = Llmkit::Native # the constants compiled in from llmkit.h

  def test_version_is_the_headers
    pieces = [HEADER::VERSION_MAJOR, HEADER::VERSION_MINOR, HEADER::VERSION_PATCH]
    assert_equal pieces.join("."), Llmkit.version
    assert_equal HEADER::VERSION_STRING, Llmkit.version
  end

  def test_version_number_encodes_the_version
    major, minor, patch = Llmkit.version.split(".").map(&:to_i)
    assert_equal major * 10_000 + minor * 100 + patch, Llmkit.version_number
    assert_equal HEADER::VERSION_NUMBER, Llmkit.version_number
  end

  def test_gem_version_is_the_c_api_version
    assert_equal HEADER::VERSION_STRING, Llmkit::VERSION
  end

  def test_version_is_utf8
    assert_equal Encoding::UTF_8, Llmkit.version.encoding
  end
end
