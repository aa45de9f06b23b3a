require "minitest/autorun"
require "llmkit"
