"""llmkit through plain ctypes: no binding, no compiler, just dlopen of the C ABI.

Set LLMKIT_LIBRARY to the path of libllmkit.so.0 or let the loader find it.
"""
import ctypes
import os

_lib = ctypes.CDLL(os.environ.get("LLMKIT_LIBRARY", "libllmkit.so.0"))

_lib.llmkit_version.restype = ctypes.c_char_p
_lib.llmkit_status_str.restype = ctypes.c_char_p
_lib.llmkit_status_str.argtypes = [ctypes.c_int]
_lib.llmkit_last_error.restype = ctypes.c_char_p
_lib.llmkit_options_new.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
_lib.llmkit_options_free.argtypes = [ctypes.c_void_p]
_lib.llmkit_options_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
_lib.llmkit_options_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_char_p)]


class LlmkitError(Exception):
    """A failing llmkit call: status name and the library's message."""

    def __init__(self, status):
        self.status = status
        self.status_name = _lib.llmkit_status_str(status).decode()
        # Same thread, right after the failing call: the message is thread-local.
        super().__init__(f"{self.status_name}: {_lib.llmkit_last_error().decode()}")


def _check(status):
    if status != 0:
        raise LlmkitError(status)


def version():
    return _lib.llmkit_version().decode()


class Options:
    def __init__(self):
        self._h = ctypes.c_void_p()
        _check(_lib.llmkit_options_new(ctypes.byref(self._h)))

    def close(self):
        if self._h:
            _lib.llmkit_options_free(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set(self, key, value):
        _check(_lib.llmkit_options_set(self._h, key.encode(), value.encode()))

    def get(self, key):
        out = ctypes.c_char_p()
        _check(_lib.llmkit_options_get(self._h, key.encode(), ctypes.byref(out)))
        return out.value.decode()
