/* bindings/llmkit.i — the one SWIG interface behind the Go, Ruby and C#
 * bindings. The C API is declared once, from include/llmkit.h; each
 * language's section adds only what makes it native: how an llmkit_status
 * becomes an error, how out-parameters become return values, how handles
 * are owned, and its naming. */
%module llmkit

%{
#include "llmkit.h"
%}

#define LLMKIT_API

/* uint32_t, uint64_t, int64_t ... as the integers they are. */
%include <stdint.i>

#if defined(SWIGGO)
/* ===================================================================== */
/* Go                                                                  */
/* ===================================================================== */

/* Go: generates the internal package llmkit/internal/raw. The public package llmkit wraps it;
 * this layer only makes every call safe and cheap to wrap:
 *  - a returned llmkit_status becomes *Failure (nil on success), carrying the
 *    message of llmkit_last_error() read inside the same C call;
 *  - out-parameters become Go pointers the wrapper fills;
 *  - opaque handles travel as uintptr (C memory the Go GC never moves). */

%insert(cgo_comment_typedefs) %{
#cgo pkg-config: llmkit
%}

/* llmkit_options_new -> Options_new: the package name already says llmkit. */
%rename("%(strip:[llmkit_])s", %$isfunction) "";

/* llmkit_last_error() is per OS thread and a goroutine may change threads
 * between two cgo calls, so Go never calls it: the status typemap below
 * reads it in the C wrapper of the call that failed. That beats
 * runtime.LockOSThread around two calls: one cgo crossing, and every
 * function added to llmkit.h gets it without any Go code. */
%ignore llmkit_last_error;

/* ---- Status ---------------------------------------------------------- */

%fragment("llmkit_go_status", "header") %{
/* Returned, unowned, when the message cannot be copied: Go frees only
 * strings longer than this one byte. */
static const char llmkit_go_oom = LLMKIT_OUT_OF_MEMORY;

/* Packs a failing status and its message into one Go string: byte 0 is the
 * status, the rest the message. */
static _gostring_ llmkit_go_failure(llmkit_status status, const char *msg) {
  _gostring_ r;
  size_t n = strlen(msg);
  r.p = (char *)malloc(n + 1);
  if (!r.p) {
    r.p = (char *)&llmkit_go_oom;
    r.n = 1;
    return r;
  }
  r.p[0] = (char)status;
  memcpy(r.p + 1, msg, n);
  r.n = (intgo)(n + 1);
  return r;
}

/* The packed status with this thread's llmkit_last_error(). Success is "",
 * so it allocates nothing. */
static _gostring_ llmkit_go_status(llmkit_status status) {
  _gostring_ ok = {NULL, 0};
  const char *msg;
  if (status == LLMKIT_OK) return ok;
  msg = llmkit_last_error();
  return llmkit_go_failure(status, *msg ? msg : llmkit_status_str(status));
}
%}

%go_import("strings")
%insert(go_wrapper) %{
// Failure is a non-OK llmkit_status with its llmkit_last_error() message.
type Failure struct {
	Status  int
	Message string
}

type swigFailureString struct {
	p uintptr
	n int
}

// newFailure unpacks what llmkit_go_status packed, copying the message into
// Go memory and freeing the C copy.
func newFailure(s string) *Failure {
	if s == "" {
		return nil
	}
	f := &Failure{Status: int(s[0]), Message: strings.Clone(s[1:])}
	if len(s) > 1 {
		Swig_free((*swigFailureString)(unsafe.Pointer(&s)).p)
	}
	return f
}
%}

%typemap(gotype) llmkit_status "*Failure"
%typemap(imtype) llmkit_status "string"
%typemap(out, fragment="llmkit_go_status") llmkit_status
%{ $result = llmkit_go_status($1); %}
%typemap(goout) llmkit_status %{ $result = newFailure($1) %}

/* ...except where a status is an input, as in llmkit_status_str(). */
%typemap(gotype) llmkit_status status "int"
%typemap(imtype) llmkit_status status "int"
%typemap(in) llmkit_status status %{ $1 = ($1_ltype)$input; %}

/* ---- Out-parameters -------------------------------------------------- */

/* A string the library owns and may change later: the C wrapper copies it
 * to malloc'd memory before returning (C may not allocate Go memory), the
 * Go wrapper copies that into Go memory and frees it. Callers pass a
 * pointer to "": cgo forbids passing memory that holds Go pointers. */
%typemap(gotype) const char **OUTPUT "*string"
%typemap(imtype) const char **OUTPUT "*string"
%typemap(in) const char **OUTPUT (const char *temp = NULL)
%{ $1 = ($1_ltype)&temp; %}
%typemap(argout, fragment="AllocateString") const char **OUTPUT
%{
  if (temp$argnum && *temp$argnum)
    *$input = Swig_AllocateString(temp$argnum, strlen(temp$argnum));
%}
%typemap(goargout, fragment="CopyString") const char **OUTPUT
%{
  if *$input != "" {
    *$1 = swigCopyString(*$input)
  }
%}
%apply const char **OUTPUT { const char **value, const char **encoding };

%typemap(gotype) size_t *OUTPUT "*int"
%typemap(in) size_t *OUTPUT (size_t temp = 0)
%{ $1 = ($1_ltype)&temp; %}
%typemap(argout) size_t *OUTPUT
%{ *$input = (intgo)temp$argnum; %}
%apply size_t *OUTPUT { size_t *count, size_t *n_vocab, size_t *n_ids, size_t *len };

%{
#include <stdbool.h>
%}
%typemap(gotype) int *exact "*bool"
%typemap(in) int *exact (int temp = 0)
%{ $1 = &temp; %}
%typemap(argout) int *exact
%{ *$input = temp$argnum != 0; %}

/* ---- Byte buffers ---------------------------------------------------- */

/* Text with its length goes to C as the Go string's own bytes, uncopied:
 * cgo allows it for the call (the bytes hold no Go pointers), and the
 * bytes arrive exactly as they are, NULs and invalid UTF-8 included, for
 * llmkit to judge. Slices likewise lend their arrays: the library reads ids
 * and fills ids, bytes and counts in place. Only 64-bit Go is built
 * (-intgosize 64), where size_t and Go's int have the same layout. */
%define LLMKIT_GO_TEXT(PTR, LEN)
%typemap(gotype) (PTR, LEN) "string"
%typemap(in) (PTR, LEN) %{ $1 = ($1_ltype)$input.p; $2 = ($2_ltype)$input.n; %}
%enddef
LLMKIT_GO_TEXT(const char *text, size_t len)
LLMKIT_GO_TEXT(const char *messages_json, size_t messages_len)
LLMKIT_GO_TEXT(const char *tools_json, size_t tools_len)

%define LLMKIT_GO_SLICE(GOTYPE, PTR, LEN)
%typemap(gotype) (PTR, LEN) "GOTYPE"
%typemap(in) (PTR, LEN) %{ $1 = ($1_ltype)$input.array; $2 = ($2_ltype)$input.len; %}
%enddef
LLMKIT_GO_SLICE([]uint32, uint32_t *ids, size_t capacity)
LLMKIT_GO_SLICE([]uint32, const uint32_t *ids, size_t n)
LLMKIT_GO_SLICE([]byte, char *buf, size_t capacity)
LLMKIT_GO_SLICE([]int, const size_t *lens, size_t n)

/* Its length is that of lens, which the caller checks. */
%typemap(gotype) size_t *counts "[]int"
%typemap(in) size_t *counts %{ $1 = ($1_ltype)$input.array; %}

%{
typedef char llmkit_go_size_t_is_int[sizeof(size_t) == sizeof(intgo) ? 1 : -1];
%}

/* ---- Handles --------------------------------------------------------- */

/* Each opaque type is a uintptr in Go; `TYPE **out` is a *uintptr that
 * the constructor fills. The llmkit package owns and frees them. */
%define LLMKIT_GO_HANDLE(TYPE)
%typemap(gotype) TYPE *, const TYPE * "uintptr"
%typemap(in) TYPE *, const TYPE * %{ $1 = ($1_ltype)$input; %}
%typemap(gotype) TYPE **out "*uintptr"
%typemap(in) TYPE **out %{ $1 = ($1_ltype)$input; %}
%enddef

LLMKIT_GO_HANDLE(llmkit_options)
LLMKIT_GO_HANDLE(llmkit_tokenizer)

/* ---- Token counting -------------------------------------------------- */

/* llmkit_tokenizer_count_batch takes an array of text pointers, which cgo
 * lets Go pass only in C memory, where Go may not store Go pointers. So Go
 * joins the texts into one string and passes their lengths, and this helper
 * points into that string from a malloc'd array for the call. It packs
 * its own failures: llmkit_last_error() would not describe them. */
%ignore llmkit_tokenizer_count_batch;
%rename(tokenizer_count_batch) llmkit_go_tokenizer_count_batch;

%typemap(gotype) llmkit_go_result "*Failure"
%typemap(imtype) llmkit_go_result "string"
%typemap(out) llmkit_go_result %{ $result = $1; %}
%typemap(goout) llmkit_go_result %{ $result = newFailure($1) %}

%fragment("llmkit_go_status");
%{
typedef _gostring_ llmkit_go_result;

static llmkit_go_result llmkit_go_tokenizer_count_batch(
    const llmkit_tokenizer *tokenizer, const char *text, size_t len,
    const size_t *lens, size_t n, int mode, size_t *counts) {
  const char **texts;
  llmkit_status status;
  size_t i, at = 0;
  if (n == 0) return llmkit_go_status(LLMKIT_OK);
  if (!text) text = ""; /* Go's "" may have no bytes at all */
  texts = (const char **)malloc(n * sizeof *texts);
  if (!texts) return llmkit_go_failure(LLMKIT_OUT_OF_MEMORY, "out of memory for the text pointers");
  for (i = 0; i < n && lens[i] <= len - at; i++) {
    texts[i] = text + at;
    at += lens[i];
  }
  if (i < n) {
    free(texts);
    return llmkit_go_failure(LLMKIT_INVALID_ARGUMENT, "text lengths exceed the joined text");
  }
  status = llmkit_tokenizer_count_batch(tokenizer, texts, lens, n,
                                        (llmkit_special_mode)mode, counts);
  free(texts);
  return llmkit_go_status(status);
}
%}
llmkit_go_result llmkit_go_tokenizer_count_batch(const llmkit_tokenizer *tokenizer,
    const char *text, size_t len, const size_t *lens, size_t n, int mode, size_t *counts);

#elif defined(SWIGRUBY)
/* ===================================================================== */
/* Ruby                                                                */
/* ===================================================================== */

/* Ruby: what makes the C API native.
 *
 * The generated wrapper is the raw layer Llmkit::Native (the Makefile passes
 * -module llmkit::native); lib/llmkit.rb builds the public API on top of it.
 * Here a failing llmkit_status becomes an exception, out-parameters become
 * return values, strings cross the boundary byte for byte and long calls
 * release the GVL. The wrapper is C++ only so that one lambda can carry any
 * call out of the GVL. Callbacks, when they come, go through a C trampoline
 * and a registry of Ruby objects kept marked for the GC while llmkit holds
 * them. */

/* llmkit_options_get -> Native.options_get, LLMKIT_NOT_FOUND -> Native::NOT_FOUND. */
%rename("%(regex:/^llmkit_(.*)/\\1/)s") "";
%rename("%(regex:/^LLMKIT_(.*)/\\1/)s") "";

/* ---- Errors ---------------------------------------------------------- */

%{
/* Raises the Llmkit::Error subclass for `status`. It runs right after the
 * failing call, on the same thread and before any other llmkit call, so
 * llmkit_last_error() still holds that call's message. */
static void llmkit_rb_raise(llmkit_status status) {
  /* llmkit escapes the bytes it quotes, so messages are always UTF-8. */
  VALUE message = rb_utf8_str_new_cstr(llmkit_last_error());
  VALUE error_class = rb_path2class("Llmkit::Error");
  rb_exc_raise(rb_funcall(error_class, rb_intern("for_status"), 2, INT2NUM(status), message));
}
%}

/* Every status-returning call either raises or returns nil, to which the
 * out-parameter typemaps below append the real results. */
%typemap(out) llmkit_status {
  if ($1 != LLMKIT_OK) llmkit_rb_raise($1);
  $result = Qnil;
}

/* ---- Releasing the GVL -------------------------------------------------- */

%{
#include <ruby/thread.h>

template <typename Call> static void *llmkit_rb_invoke(void *call) {
  (*static_cast<Call *>(call))();
  return NULL;
}

/* Runs `call` with the GVL released, so other Ruby threads go on meanwhile;
 * it cannot be interrupted midway. rb_thread_call_without_gvl2, unlike
 * rb_thread_call_without_gvl, handles no interrupts after the call, so no
 * Ruby code (a trap handler, say) runs on this thread between the call and
 * the status typemap reading llmkit_last_error(). When an interrupt is
 * pending it returns without calling: handle it (it may raise), try again. */
template <typename Call> static void llmkit_rb_without_gvl(Call call) {
  bool ran = false;
  auto run = [&] {
    call();
    ran = true;
  };
  for (;;) {
    rb_thread_call_without_gvl2(llmkit_rb_invoke<decltype(run)>, &run, NULL, NULL);
    if (ran) return;
    rb_thread_check_ints();
  }
}
%}

/* FUNC may take long (its time grows with its input): its C call runs
 * without the GVL. The typemaps below make that safe: whatever C reads is
 * a frozen or private copy that no other thread can change or free. */
%define %llmkit_rb_without_gvl(FUNC)
%exception FUNC %{
  llmkit_rb_without_gvl([&] { $action });
%}
%enddef

/* ---- Strings ---------------------------------------------------------- */

/* Bytes go to C untouched, whatever the string's encoding, so llmkit itself
 * reports invalid UTF-8 with its byte offset. C reads a frozen copy, which
 * shares the bytes (the caller's string copies them if it changes later)
 * and which the freearg typemap keeps alive to the end of the call. */
%{
static VALUE llmkit_rb_frozen(VALUE str, const char **ptr, size_t *len) {
  VALUE frozen = rb_str_new_frozen(StringValue(str));
  *ptr = RSTRING_PTR(frozen);
  *len = RSTRING_LEN(frozen);
  return frozen;
}
%}

/* NUL-terminated: StringValueCStr raises ArgumentError on an embedded NUL
 * instead of truncating, and terminates the string first so that the
 * frozen copy is terminated too. */
%typemap(in) const char * (VALUE frozen = Qnil, size_t len = 0) {
  StringValueCStr($input);
  frozen = llmkit_rb_frozen($input, (const char **)&$1, &len);
}
%typemap(freearg) const char * { RB_GC_GUARD(frozen$argnum); }

/* With an explicit length: binary-safe. */
%typemap(in) (const char *text, size_t len) (VALUE frozen = Qnil) {
  frozen = llmkit_rb_frozen($input, (const char **)&$1, &$2);
}
%typemap(freearg) (const char *text, size_t len) { RB_GC_GUARD(frozen$argnum); }
%apply (const char *text, size_t len) { (const char *messages_json, size_t messages_len) };

/* The same, where nil stands for NULL (no tools). */
%typemap(in) (const char *tools_json, size_t tools_len) (VALUE frozen = Qnil) {
  $1 = NULL;
  $2 = 0;
  if (!NIL_P($input)) frozen = llmkit_rb_frozen($input, (const char **)&$1, &$2);
}
%typemap(freearg) (const char *tools_json, size_t tools_len) { RB_GC_GUARD(frozen$argnum); }

/* Strings from llmkit are UTF-8 (llmkit.h), copied before the next call. */
%typemap(out) const char * { $result = $1 ? rb_utf8_str_new_cstr($1) : Qnil; }
%typemap(constcode, noblock=1) char *, const char * {
  %set_constant("$symname", rb_utf8_str_new_cstr($value));
}

/* ---- Out-parameters --------------------------------------------------- */

%typemap(in, numinputs=0) const char **value (const char *tmp = NULL) { $1 = ($1_ltype)&tmp; }
%typemap(argout) const char **value {
  $result = SWIG_Ruby_AppendOutput($result, rb_utf8_str_new_cstr(*$1));
}
%apply const char **value { const char **encoding };

%typemap(in, numinputs=0) size_t *count (size_t tmp = 0) { $1 = &tmp; }
%typemap(argout) size_t *count { $result = SWIG_Ruby_AppendOutput($result, SIZET2NUM(*$1)); }
%apply size_t *count { size_t *n_vocab };

%typemap(in, numinputs=0) int *exact (int tmp = 0) { $1 = &tmp; }
%typemap(argout) int *exact { $result = SWIG_Ruby_AppendOutput($result, *$1 ? Qtrue : Qfalse); }

/* ---- Token ids ---------------------------------------------------------- */

/* What C reads or fills without the GVL is memory no other Ruby thread can
 * reach: ALLOCV memory (on the stack when small, which the GC frees if the
 * call raises before freearg runs) or a fresh String. */

%{
static uint32_t llmkit_rb_token_id(VALUE id) {
  long long value = NUM2LL(id);
  if (value < 0 || value > (long long)UINT32_MAX) {
    rb_raise(rb_eRangeError, "token id %lld is out of range", value);
  }
  return (uint32_t)value;
}
%}

/* Ids in: an Array of Integers. */
%typemap(in) (const uint32_t *ids, size_t n) (VALUE buffer = 0) {
  uint32_t *ids;
  Check_Type($input, T_ARRAY);
  $2 = RARRAY_LEN($input);
  ids = ALLOCV_N(uint32_t, buffer, $2 ? $2 : 1);
  /* rb_ary_entry, not RARRAY_AREF: converting an id may run Ruby code
   * that shortens the array. */
  for (size_t i = 0; i < $2; i++) ids[i] = llmkit_rb_token_id(rb_ary_entry($input, (long)i));
  $1 = ids;
}
%typemap(freearg) (const uint32_t *ids, size_t n) { ALLOCV_END(buffer$argnum); }

/* Ids out, returned as an Array: the caller passes the capacity (the text's
 * byte length always suffices) and llmkit checks it, so too small a one is
 * INVALID_ARGUMENT, never an overflow. */
%typemap(in) (uint32_t *ids, size_t capacity, size_t *n_ids) (VALUE buffer = 0, size_t n = 0) {
  $2 = NUM2SIZET($input);
  /* Never NULL: NULL asks llmkit for the count alone. */
  $1 = ALLOCV_N(uint32_t, buffer, $2 ? $2 : 1);
  $3 = &n;
}
%typemap(argout) (uint32_t *ids, size_t capacity, size_t *n_ids) {
  VALUE ids = rb_ary_new_capa((long)n$argnum);
  for (size_t i = 0; i < n$argnum; i++) rb_ary_push(ids, UINT2NUM($1[i]));
  $result = SWIG_Ruby_AppendOutput($result, ids);
}
%typemap(freearg) (uint32_t *ids, size_t capacity, size_t *n_ids) { ALLOCV_END(buffer$argnum); }

/* Decoded bytes out: capacity nil asks for their length (buf NULL); an
 * Integer returns them in a String of that capacity, tagged UTF-8 though
 * ids that split a character leave it invalid. The String is a fresh local
 * that no other thread can see while C writes into it. */
%typemap(in) (char *buf, size_t capacity, size_t *len) (VALUE bytes = Qnil, size_t n = 0) {
  $1 = NULL;
  $2 = 0;
  if (!NIL_P($input)) {
    $2 = NUM2SIZET($input);
    bytes = rb_utf8_str_new(NULL, (long)$2);
    $1 = RSTRING_PTR(bytes);
  }
  $3 = &n;
}
%typemap(argout) (char *buf, size_t capacity, size_t *len) {
  if (NIL_P(bytes$argnum)) {
    $result = SWIG_Ruby_AppendOutput($result, SIZET2NUM(n$argnum));
  } else {
    rb_str_set_len(bytes$argnum, (long)n$argnum);
    $result = SWIG_Ruby_AppendOutput($result, bytes$argnum);
  }
}
%typemap(freearg) (char *buf, size_t capacity, size_t *len) { RB_GC_GUARD(bytes$argnum); }

/* Batch counting (see the shim at the end): an Array of Strings in, an Array
 * of counts out. The texts are copied into one buffer: unlike a lone frozen
 * string on the C stack, strings held in an Array may be moved by GC
 * compaction while C reads them, and a copy costs little next to
 * tokenizing. */
%typemap(in) (const char *const *texts, const size_t *lens, size_t n, size_t *counts)
    (VALUE converted = Qnil, VALUE bytes_buffer = 0, VALUE texts_buffer = 0, VALUE lens_buffer = 0,
     VALUE counts_buffer = 0) {
  const char **texts;
  size_t *lens;
  char *bytes;
  size_t total = 0;
  /* Converting may run Ruby code (to_str); the copying below runs none, so
   * the texts cannot change between measuring and copying them. */
  Check_Type($input, T_ARRAY);
  converted = rb_ary_new_capa(RARRAY_LEN($input));
  for (long i = 0; i < RARRAY_LEN($input); i++) {
    VALUE text = rb_ary_entry($input, i);
    rb_ary_push(converted, StringValue(text));
  }
  $3 = RARRAY_LEN(converted);
  for (size_t i = 0; i < $3; i++) total += RSTRING_LEN(RARRAY_AREF(converted, i));
  bytes = ALLOCV_N(char, bytes_buffer, total ? total : 1);
  texts = ALLOCV_N(const char *, texts_buffer, $3 ? $3 : 1);
  lens = ALLOCV_N(size_t, lens_buffer, $3 ? $3 : 1);
  $4 = ALLOCV_N(size_t, counts_buffer, $3 ? $3 : 1);
  for (size_t i = 0; i < $3; i++) {
    VALUE text = RARRAY_AREF(converted, i);
    texts[i] = (const char *)memcpy(bytes, RSTRING_PTR(text), RSTRING_LEN(text));
    lens[i] = RSTRING_LEN(text);
    bytes += lens[i];
  }
  $1 = ($1_ltype)texts;
  $2 = lens;
}
%typemap(argout) (const char *const *texts, const size_t *lens, size_t n, size_t *counts) {
  VALUE counts = rb_ary_new_capa((long)$3);
  for (size_t i = 0; i < $3; i++) rb_ary_push(counts, SIZET2NUM($4[i]));
  $result = SWIG_Ruby_AppendOutput($result, counts);
}
%typemap(freearg) (const char *const *texts, const size_t *lens, size_t n, size_t *counts) {
  ALLOCV_END(bytes_buffer$argnum);
  ALLOCV_END(texts_buffer$argnum);
  ALLOCV_END(lens_buffer$argnum);
  ALLOCV_END(counts_buffer$argnum);
}

%llmkit_rb_without_gvl(llmkit_tokenizer_new)
%llmkit_rb_without_gvl(llmkit_tokenizer_encode)
%llmkit_rb_without_gvl(llmkit_tokenizer_count)
%llmkit_rb_without_gvl(llmkit_rb_tokenizer_count_batch)
%llmkit_rb_without_gvl(llmkit_tokenizer_decode)
%llmkit_rb_without_gvl(llmkit_count_tokens)
%llmkit_rb_without_gvl(llmkit_count_tokens_chat)
%llmkit_rb_without_gvl(llmkit_estimate_tokens)

/* ---- Handles ------------------------------------------------------------ */

/* %llmkit_rb_handle(llmkit_foo, FooHandle) declares llmkit_foo as a class
 * (for SWIG only; C still sees the opaque type) so a handle the GC collects
 * is freed by llmkit_foo_free, and makes `llmkit_foo **out` a return value
 * that owns the handle. */
%define %llmkit_rb_handle(TYPE, CLASS)
%rename(CLASS) TYPE;
%nodefaultctor TYPE;
struct TYPE {};
%extend TYPE {
  ~TYPE() { TYPE##_free($self); }
}

%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) { $1 = &tmp; }
%typemap(argout) TYPE **out {
  $result = SWIG_Ruby_AppendOutput($result,
                                   SWIG_NewPointerObj(*$1, $*1_descriptor, SWIG_POINTER_OWN));
}

/* Freeing disowns the handle and clears it, so a stale handle raises
 * ObjectPreviouslyDeleted instead of reaching freed memory. */
%delobject TYPE##_free;
%typemap(in) TYPE * (void *argp = 0, int res = 0) {
  res = SWIG_ConvertPtr($input, &argp, $descriptor, $disown | ($disown ? SWIG_POINTER_CLEAR : 0));
  if (!SWIG_IsOK(res)) {
    SWIG_exception_fail(SWIG_ArgError(res), Ruby_Format_TypeError("", "$type", "$symname", $argnum, $input));
  }
  $1 = ($ltype)argp;
}
%typemap(in) const TYPE * = TYPE *;
%enddef

%llmkit_rb_handle(llmkit_options, OptionsHandle)
%llmkit_rb_handle(llmkit_tokenizer, TokenizerHandle)

/* ---- Shims --------------------------------------------------------------- */

/* count_batch takes an Array of Strings and returns an Array of counts.
 * Its parameters are reordered so one typemap sees both texts and counts;
 * it is declared last, after every typemap it needs. */
%ignore llmkit_tokenizer_count_batch;
%rename(tokenizer_count_batch) llmkit_rb_tokenizer_count_batch;
%inline %{
static llmkit_status llmkit_rb_tokenizer_count_batch(const llmkit_tokenizer *tokenizer,
                                                     llmkit_special_mode mode,
                                                     const char *const *texts, const size_t *lens,
                                                     size_t n, size_t *counts) {
  return llmkit_tokenizer_count_batch(tokenizer, texts, lens, n, mode, counts);
}
%}

#elif defined(SWIGCSHARP)
/* ===================================================================== */
/* C#                                                                  */
/* ===================================================================== */

/* C#: what makes the C API native.
 *
 * SWIG generates the internal layer: the C wrapper, the P/Invoke class
 * (NativePINVOKE) and the internal module class (Native, one method per C
 * function under its C name). The public types in src/ shape it into C# idiom.
 * The typemaps key on C types, not on function names, so a new function in
 * llmkit.h is wrapped with no change here. */

%pragma(csharp) moduleclassmodifiers="internal static class"

/* ---- Naming ---------------------------------------------------------- */

%rename(Status) llmkit_status;
%rename(SpecialMode) llmkit_special_mode;
%rename(Disallow) LLMKIT_SPECIAL_DISALLOW;
%rename(Allow) LLMKIT_SPECIAL_ALLOW;
%rename(AsText) LLMKIT_SPECIAL_AS_TEXT;
/* LLMKIT_OUT_OF_MEMORY -> OutOfMemory, for names of up to three words (the
 * tests check every status round-trips through its name). */
%rename("%(regex:/^LLMKIT_([A-Z])([A-Z]*)_?([A-Z]?)([A-Z]*)_?([A-Z]?)([A-Z]*)$/\\1\\L\\2\\E\\3\\L\\4\\E\\5\\L\\6/)s",
        %$isenumitem) "";

/* The header's macros (LLMKIT_VERSION_*) become C# literals, not calls. */
%csconst(1);

/* Errors reach C# as LlmkitException, which already carries the message. */
%ignore llmkit_last_error;

/* ---- Errors: llmkit_status -> LlmkitException -------------------------- */

/* llmkit_last_error() is per OS thread and lasts only until this thread's
 * next llmkit call, so the wrapper reads it right after the failing call, on
 * the calling thread, and hands it to C# through a registered delegate, which
 * leaves it as SWIG's pending exception for the generated C# to throw. */
%{
typedef void (SWIGSTDCALL *llmkit_csharp_raise_fn)(int status, const char *message);
static llmkit_csharp_raise_fn llmkit_csharp_raise_cb;

SWIGEXPORT void SWIGSTDCALL llmkit_csharp_register_raise(llmkit_csharp_raise_fn cb) {
  llmkit_csharp_raise_cb = cb;
}

static void llmkit_csharp_raise(llmkit_status status) {
  llmkit_csharp_raise_cb((int)status, llmkit_last_error());
}
%}

%pragma(csharp) imclasscode=%{
  delegate void RaiseCallback(int status, global::System.IntPtr message);

  [global::System.Runtime.InteropServices.DllImport("$dllimport")]
  static extern void llmkit_csharp_register_raise(RaiseCallback cb);

  static void Raise(int status, global::System.IntPtr message) {
    SWIGPendingException.Set(new LlmkitException((Status)status, Utf8.Decode(message)));
  }

  // C holds this delegate for the life of the process; the field keeps it alive.
  static readonly RaiseCallback raise = Raise;

  // Runs before this class's first call. It replaces SWIG's empty static
  // constructor (the Makefile passes -DSWIG_CSHARP_NO_IMCLASS_STATIC_CONSTRUCTOR),
  // which likewise keeps the class from being marked beforefieldinit.
  static $imclassname() {
    llmkit_csharp_register_raise(raise);
  }
%}

/* A returned status becomes void in C#: non-OK throws. A status passed in
 * (llmkit_status_str) keeps the default enum mapping. */
%typemap(ctype, out="void") llmkit_status "int"
%typemap(imtype, out="void") llmkit_status "int"
%typemap(cstype, out="void") llmkit_status "$csclassname"
%typemap(out, canthrow=1) llmkit_status %{
  if ($1 != LLMKIT_OK) {
    llmkit_csharp_raise($1);
    return;
  }
%}
%typemap(csout, excode=SWIGEXCODE) llmkit_status {
    $imcall;$excode
  }

/* ---- Strings: UTF-8 both ways ------------------------------------------ */

/* P/Invoke's own string marshalling is ANSI on some platforms and silently
 * replaces lone surrogates; Utf8 (src/Utf8.cs) does it strictly instead. */
%typemap(ctype) const char * "const char *"
%typemap(imtype, out="global::System.IntPtr") const char * "byte[]"
%typemap(cstype) const char * "string"
%typemap(csin) const char * "Utf8.Encode($csinput)"
%typemap(in) const char * %{ $1 = ($1_ltype)$input; %}
%typemap(out) const char * %{ $result = (const char *)$1; %}
%typemap(csout, excode=SWIGEXCODE) const char * {
    string ret = Utf8.Decode($imcall);$excode
    return ret;
  }

/* ---- Out-parameters: C# `out` arguments --------------------------------- */

/* Each out-parameter starts cleared in C, so a failing call never leaves C#
 * reading an uninitialised value. */

/* const char ** is a string owned by the library: copied before the next call. */
%typemap(ctype) const char ** "const char **"
%typemap(imtype) const char ** "out global::System.IntPtr"
%typemap(cstype) const char ** "out string"
%typemap(csin, pre="    global::System.IntPtr temp$csinput = global::System.IntPtr.Zero;",
               post="      $csinput = Utf8.Decode(temp$csinput);") const char ** "out temp$csinput"
%typemap(in) const char ** %{ $1 = ($1_ltype)$input; *$1 = NULL; %}

/* A pointer to one scalar is an out-parameter; arrays are the spans below. */
%define %llmkit_out(CTYPE, CSTYPE)
%typemap(ctype) CTYPE * "CTYPE *"
%typemap(imtype) CTYPE * "out CSTYPE"
%typemap(cstype) CTYPE * "out CSTYPE"
%typemap(csin) CTYPE * "out $csinput"
%typemap(in) CTYPE * %{ $1 = ($1_ltype)$input; *$1 = 0; %}
%enddef

%llmkit_out(size_t, global::System.UIntPtr)
%llmkit_out(int, int)

/* size_t is pointer-sized on every platform llmkit builds for; SWIG's
 * default (uint) would cut lengths above 4 GiB. */
%typemap(ctype) size_t "size_t"
%typemap(imtype) size_t "global::System.UIntPtr"
%typemap(cstype) size_t "global::System.UIntPtr"
%typemap(csin) size_t "$csinput"
%typemap(in) size_t %{ $1 = $input; %}

/* ---- Arrays with a length: spans ---------------------------------------- */

/* The Native method takes a span and the C function gets a pointer to its
 * first element: P/Invoke pins it for the call, so nothing is copied, and
 * an empty span is NULL, which llmkit accepts with a zero length. The
 * length travels in the C function's own size_t argument, set by src/. */
%define %llmkit_span(CDECL, SPAN, ELEM)
%typemap(ctype) CDECL "void *"
%typemap(imtype) CDECL "ref ELEM"
%typemap(cstype) CDECL "global::System.SPAN<ELEM>"
%typemap(csin) CDECL "ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference($csinput)"
%typemap(in) CDECL %{ $1 = ($1_ltype)$input; %}
%enddef

/* Text with a length is bytes, not a string: it may hold NULs, and invalid
 * UTF-8 reaches llmkit, which reports its byte offset. Only parameter names
 * tell it from a NUL-terminated const char *. */
%llmkit_span(const char *BYTES, ReadOnlySpan, byte)
%apply const char *BYTES { const char *text, const char *messages_json, const char *tools_json };
%llmkit_span(char *buf, Span, byte)
%llmkit_span(const uint32_t *, ReadOnlySpan, uint)
%llmkit_span(uint32_t *, Span, uint)
%llmkit_span(const char *const *, ReadOnlySpan, global::System.IntPtr)
%llmkit_span(const size_t *, ReadOnlySpan, global::System.UIntPtr)
%llmkit_span(size_t *counts, Span, global::System.UIntPtr)

/* ---- Opaque objects: SafeHandle subclasses ------------------------------ */

/* llmkit_handle(llmkit_foo, FooHandle) passes llmkit_foo * as FooHandle (a
 * SafeHandle written in src/) and turns llmkit_foo ** into `out FooHandle`.
 * llmkit_foo_free is reached only from FooHandle.ReleaseHandle, through
 * csharp_llmkit_foo_free, which takes the raw pointer: a SafeHandle being
 * released can no longer be marshalled. */
%define %llmkit_handle(CTYPE, HANDLE)
%typemap(ctype) CTYPE *, const CTYPE * "void *"
%typemap(imtype) CTYPE *, const CTYPE * "HANDLE"
%typemap(cstype) CTYPE *, const CTYPE * "HANDLE"
%typemap(csin) CTYPE *, const CTYPE * "$csinput"
%typemap(in) CTYPE *, const CTYPE * %{ $1 = ($1_ltype)$input; %}

%typemap(ctype) CTYPE ** "void **"
%typemap(imtype) CTYPE ** "out HANDLE"
%typemap(cstype) CTYPE ** "out HANDLE"
%typemap(csin) CTYPE ** "out $csinput"
%typemap(in) CTYPE ** %{ $1 = ($1_ltype)$input; *$1 = NULL; %}

%ignore CTYPE##_free;
%{
SWIGEXPORT void SWIGSTDCALL csharp_##CTYPE##_free(void *handle) { CTYPE##_free((CTYPE *)handle); }
%}
%pragma(csharp) imclasscode=%{
  [global::System.Runtime.InteropServices.DllImport("$dllimport")]
  internal static extern void csharp_##CTYPE##_free(global::System.IntPtr handle);
%}
%enddef

%llmkit_handle(llmkit_options, OptionsHandle)
%llmkit_handle(llmkit_tokenizer, TokenizerHandle)

#endif

%include "llmkit.h"
