import unittest

import llmkit_ctypes as lk


class CtypesTest(unittest.TestCase):
    def test_version_is_major_minor_patch(self):
        self.assertRegex(lk.version(), r"^\d+\.\d+\.\d+$")

    def test_round_trip_and_utf8(self):
        with lk.Options() as o:
            o.set("name", "café 中文")
            self.assertEqual(o.get("name"), "café 中文")

    def test_errors_carry_status_and_message(self):
        with lk.Options() as o:
            with self.assertRaises(lk.LlmkitError) as cm:
                o.get("missing")
            self.assertEqual(cm.exception.status_name, "NOT_FOUND")
            self.assertIn("option 'missing' is not set", str(cm.exception))
            with self.assertRaises(lk.LlmkitError) as cm:
                o.set("Bad Key", "v")
            self.assertEqual(cm.exception.status_name, "INVALID_ARGUMENT")

    def test_null_handle_is_an_error_not_a_crash(self):
        with self.assertRaises(lk.LlmkitError) as cm:
            lk._check(lk._lib.llmkit_options_set(None, b"k", b"v"))
        self.assertEqual(cm.exception.status_name, "INVALID_ARGUMENT")


if __name__ == "__main__":
    unittest.main()
