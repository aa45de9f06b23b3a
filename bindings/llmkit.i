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

/* Packs a failing status and this thread's llmkit_last_error() into one Go
 * string: byte 0 is the status, the rest the message. Success is "", so it
 * allocates nothing. */
static _gostring_ llmkit_go_status(llmkit_status status) {
  _gostring_ r = {NULL, 0};
  const char *msg;
  size_t n;
  if (status == LLMKIT_OK) return r;
  msg = llmkit_last_error();
  if (!*msg) msg = llmkit_status_str(status);
  n = strlen(msg);
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
%apply const char **OUTPUT { const char **value };

%typemap(gotype) size_t *OUTPUT "*int"
%typemap(in) size_t *OUTPUT (size_t temp = 0)
%{ $1 = ($1_ltype)&temp; %}
%typemap(argout) size_t *OUTPUT
%{ *$input = (intgo)temp$argnum; %}
%apply size_t *OUTPUT { size_t *count };

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

#elif defined(SWIGRUBY)
/* ===================================================================== */
/* Ruby                                                                */
/* ===================================================================== */

/* Ruby: what makes the C API native.
 *
 * The generated wrapper is the raw layer Llmkit::Native (the Makefile passes
 * -module llmkit::native); lib/llmkit.rb builds the public API on top of it.
 * Here a failing llmkit_status becomes an exception, out-parameters become
 * return values and strings cross the boundary byte for byte. Callbacks,
 * when they come, go through a C trampoline and a registry of Ruby objects
 * kept marked for the GC while llmkit holds them. */

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

/* ---- Strings ---------------------------------------------------------- */

/* Bytes go to C untouched, whatever the string's encoding, so llmkit itself
 * reports invalid UTF-8 with its byte offset. StringValueCStr raises
 * ArgumentError on an embedded NUL instead of truncating. The pointer
 * borrows the Ruby string, which the argument slot keeps alive. */
%typemap(in) const char * { $1 = StringValueCStr($input); }
%typemap(freearg) const char * "";

/* Strings from llmkit are UTF-8 (llmkit.h), copied before the next call. */
%typemap(out) const char * { $result = rb_utf8_str_new_cstr($1); }
%typemap(constcode, noblock=1) char *, const char * {
  %set_constant("$symname", rb_utf8_str_new_cstr($value));
}

/* ---- Out-parameters --------------------------------------------------- */

%typemap(in, numinputs=0) const char **value (const char *tmp = NULL) { $1 = ($1_ltype)&tmp; }
%typemap(argout) const char **value {
  $result = SWIG_Ruby_AppendOutput($result, rb_utf8_str_new_cstr(*$1));
}

%typemap(in, numinputs=0) size_t *count (size_t tmp = 0) { $1 = &tmp; }
%typemap(argout) size_t *count { $result = SWIG_Ruby_AppendOutput($result, SIZET2NUM(*$1)); }

/* ---- Options handles -------------------------------------------------- */

/* Declared as a class (for SWIG only; C still sees the opaque type) so a
 * handle the GC collects is freed by llmkit_options_free. */
%rename(OptionsHandle) llmkit_options;
%nodefaultctor llmkit_options;
struct llmkit_options {};
%extend llmkit_options {
  ~llmkit_options() { llmkit_options_free($self); }
}

%typemap(in, numinputs=0) llmkit_options **out (llmkit_options *tmp = NULL) { $1 = &tmp; }
%typemap(argout) llmkit_options **out {
  $result = SWIG_Ruby_AppendOutput($result,
                                   SWIG_NewPointerObj(*$1, $*1_descriptor, SWIG_POINTER_OWN));
}

/* Freeing disowns the handle and clears it, so a stale handle raises
 * ObjectPreviouslyDeleted instead of reaching freed memory. */
%delobject llmkit_options_free;
%typemap(in) llmkit_options *options (void *argp = 0, int res = 0) {
  res = SWIG_ConvertPtr($input, &argp, $descriptor, $disown | ($disown ? SWIG_POINTER_CLEAR : 0));
  if (!SWIG_IsOK(res)) {
    SWIG_exception_fail(SWIG_ArgError(res), Ruby_Format_TypeError("", "$type", "$symname", $argnum, $input));
  }
  $1 = ($ltype)argp;
}

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

%typemap(ctype) size_t * "size_t *"
%typemap(imtype) size_t * "out global::System.UIntPtr"
%typemap(cstype) size_t * "out global::System.UIntPtr"
%typemap(csin) size_t * "out $csinput"
%typemap(in) size_t * %{ $1 = ($1_ltype)$input; *$1 = 0; %}

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

#endif

%include "llmkit.h"
