# Runs the ctypes example and its tests against an installed llmkit.
# usage: sh examples/python/test.sh PREFIX
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export LLMKIT_LIBRARY="$1/lib/libllmkit.so.0"
cd "$here"
python3 -B example.py | diff -u ../c/expected.txt - 
python3 -B -m unittest -v test_ctypes 2>&1
