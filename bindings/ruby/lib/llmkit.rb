# Ruby bindings for llmkit. Llmkit::Native is the SWIG-generated layer; this
# file gives it Ruby's shape: module functions, Options, Tokenizer, an
# exception class per status.
require "json"
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

  # ---- Token counting ---------------------------------------------------
  # Calls that tokenize release the GVL, so other threads run meanwhile.

  # The encoding OpenAI's `model` uses, e.g. "o200k_base" for "gpt-4o".
  # Raises NotFoundError for a model without a public tokenizer.
  def self.encoding_for_model(model) = Native.encoding_for_model(model)

  # Exact token count of `text` for an OpenAI `model`; special-token
  # spellings count as ordinary text, as the API treats them.
  def self.count_tokens(model, text) = Native.count_tokens(model, text)

  # Prompt tokens of a Chat Completions request: `messages` and `tools` are
  # its "messages" and "tools" arrays, as JSON Strings or as Arrays/Hashes.
  def self.count_chat_tokens(model, messages, tools = nil)
    Native.count_tokens_chat(model, json(messages), tools && json(tools))
  end

  # Result of estimate_tokens: exact? is false where the count is only the
  # o200k_base estimate for a model whose tokenizer is not public.
  Estimate = Struct.new(:count, :exact) do
    alias_method :exact?, :exact
  end

  # Tokens of `text` for any known model family ("gpt-4o", "claude-*",
  # "gemini-*", ...); raises NotFoundError for an unknown one.
  def self.estimate_tokens(model, text)
    Estimate.new(*Native.estimate_tokens(model, text)).freeze
  end

  def self.json(value) = value.is_a?(String) ? value : JSON.generate(value)
  private_class_method :json

  # An OpenAI BPE encoding ("cl100k_base", "o200k_base", "p50k_base",
  # "r50k_base"); ids are tiktoken's. Cheap: the encoding data is shared and
  # loaded once. One tokenizer may be used from many threads at once.
  #
  # `special:` says what text spelling a special token such as
  # "<|endoftext|>" becomes: :disallow (the default) raises
  # InvalidArgumentError, :allow makes it the special token, :text encodes
  # it as ordinary text.
  class Tokenizer
    SPECIAL = {
      disallow: Native::SPECIAL_DISALLOW,
      allow: Native::SPECIAL_ALLOW,
      text: Native::SPECIAL_AS_TEXT
    }.freeze

    def self.for_model(model) = new(Llmkit.encoding_for_model(model))

    # Raises NotFoundError for an unknown encoding.
    def initialize(encoding)
      @handle = Native.tokenizer_new(encoding)
    end

    def name = Native.tokenizer_name(handle)

    # One more than the largest id, special tokens included.
    def n_vocab = Native.tokenizer_n_vocab(handle)

    # The ids of `text` (bytes as they are: invalid UTF-8 raises
    # InvalidArgumentError naming its byte offset).
    def encode(text, special: :disallow)
      text = String.try_convert(text) || raise(TypeError, "no implicit conversion of #{text.class} into String")
      # Every token covers at least one byte.
      Native.tokenizer_encode(handle, text, mode(special), text.bytesize)
    end

    def count(text, special: :disallow) = Native.tokenizer_count(handle, text, mode(special))

    # Counts of many texts at once, spread over llmkit's threads. When some
    # fail, the error is that of the first by index, and says "text <i>".
    def count_batch(texts, special: :disallow)
      Native.tokenizer_count_batch(handle, mode(special), texts.to_a)
    end

    # The text of `ids`, tagged UTF-8. It is invalid UTF-8 where the ids
    # split a character: check valid_encoding? when decoding a slice.
    def decode(ids)
      ids = ids.to_a
      Native.tokenizer_decode(handle, ids, Native.tokenizer_decode(handle, ids, nil))
    end

    # Frees the handle; any later call but #close raises
    # InvalidArgumentError.
    def close
      Native.tokenizer_free(@handle) if @handle
      @handle = nil
    end

    def closed? = @handle.nil?

    private

    def handle
      @handle or raise InvalidArgumentError, "tokenizer is closed"
    end

    def mode(special)
      SPECIAL.fetch(special) do
        raise ArgumentError, "special: must be :disallow, :allow or :text, not #{special.inspect}"
      end
    end
  end
end
