# Ruby bindings for llmkit. Llmkit::Native is the SWIG-generated layer; this
# file gives it Ruby's shape: module functions, Options, an exception class
# per status.
require "llmkit/version"
require "llmkit/native"

module Llmkit
  # The loaded library's version, e.g. "0.1.0".
  def self.version = Native.version

  # The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH.
  def self.version_number = Native.version_number

  # The constant name of a status code, e.g. "NOT_FOUND"; "UNKNOWN" for a
  # code the loaded library does not know.
  def self.status_str(status) = Native.status_str(status)

  # Status codes, e.g. Llmkit::Status::NOT_FOUND: the header's constants
  # that the library itself names alike (which leaves out VERSION_*).
  module Status
    Native.constants.each do |name|
      code = Native.const_get(name)
      const_set(name, code) if code.is_a?(Integer) && Native.status_str(code) == name.to_s
    end
  end

  # Raised for every failing llmkit call, as the subclass for its status
  # (NotFoundError, InvalidArgumentError, ...). The message is llmkit's own.
  class Error < StandardError
    attr_reader :status

    def initialize(message, status)
      super(message)
      @status = status
    end

    def status_name = Llmkit.status_str(status)

    # The native layer raises what this returns; a status newer than these
    # bindings still raises, as a plain Error.
    def self.for_status(status, message)
      ERRORS.fetch(status, Error).new(message, status)
    end
  end

  # NOT_FOUND -> Llmkit::NotFoundError, and so on for every failing status.
  ERRORS = Status.constants.filter_map { |name|
    code = Status.const_get(name)
    next if code == Status::OK

    error = Class.new(Error) do
      const_set(:STATUS, code)
      def initialize(message = nil, status = self.class::STATUS) = super
    end
    const_set("#{name.to_s.split("_").map(&:capitalize).join}Error", error)
    [code, error]
  }.to_h.freeze

  # Key/value settings handed to llmkit objects; keys and values are
  # Strings. #get raises NotFoundError for a missing key while #[] returns
  # nil, as Hash#[] does. #close frees it now, the GC otherwise.
  class Options
    def initialize
      @handle = Native.options_new
    end

    # dup and clone copy through llmkit_options_copy: the copies are
    # independent.
    def initialize_copy(source)
      super
      @handle = Native.options_copy(source.handle)
    end
    alias copy dup

    def set(key, value)
      Native.options_set(handle, key, value)
      self
    end

    def []=(key, value)
      set(key, value)
    end

    def get(key) = Native.options_get(handle, key)

    def [](key)
      get(key)
    rescue NotFoundError
      nil
    end

    # Raises NotFoundError when `key` is not set.
    def unset(key)
      Native.options_unset(handle, key)
      self
    end

    def size = Native.options_count(handle)
    alias count size

    # Frees the options; any later call but #close raises
    # InvalidArgumentError.
    def close
      Native.options_free(@handle) if @handle
      @handle = nil
    end

    def closed? = @handle.nil?

    protected

    def handle
      @handle or raise InvalidArgumentError, "options are closed"
    end
  end
end
