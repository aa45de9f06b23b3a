using System;
using System.Linq;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace Llmkit.Tests {

[TestFixture]
public class TokenizerTests {
  // Ids and sizes below are tiktoken's for the same encodings.
  const uint EndOfText = 100257;
  Tokenizer cl100k;

  [SetUp]
  public void CreateTokenizer() {
    cl100k = new Tokenizer("cl100k_base");
  }

  [TearDown]
  public void DisposeTokenizer() {
    cl100k.Dispose();
  }

  [TestCase("cl100k_base", 100277)]
  [TestCase("o200k_base", 200019)]
  [TestCase("p50k_base", 50281)]
  [TestCase("r50k_base", 50257)]
  public void NVocab_IsTiktokens(string encoding, int nVocab) {
    using (var tok = new Tokenizer(encoding)) {
      Assert.AreEqual(encoding, tok.Name);
      Assert.AreEqual(nVocab, tok.NVocab);
    }
  }

  [Test]
  public void New_WithAnUnknownEncoding_ThrowsNotFound() {
    var e = Assert.Throws<LlmkitException>(() => new Tokenizer("cl99k_base"));
    Assert.AreEqual(Status.NotFound, e.Status);
    StringAssert.Contains("cl99k_base", e.Message);
  }

  [Test]
  public void ForModel_UsesTheModelsEncoding() {
    using (var tok = Tokenizer.ForModel("gpt-4o")) Assert.AreEqual("o200k_base", tok.Name);
    Assert.AreEqual(Status.NotFound,
                    Assert.Throws<LlmkitException>(() => Tokenizer.ForModel("claude-3")).Status);
  }

  [Test]
  public void Encode_HelloWorld_GivesTiktokensIdsAndDecodesBack() {
    uint[] ids = cl100k.Encode("hello world");
    CollectionAssert.AreEqual(new uint[] { 15339, 1917 }, ids);
    Assert.AreEqual("hello world", cl100k.DecodeString(ids));
    CollectionAssert.AreEqual(Encoding.UTF8.GetBytes("hello world"), cl100k.Decode(ids));
    Assert.AreEqual(ids.Length, cl100k.Count("hello world"));
  }

  [Test]
  public void NonAsciiText_RoundTrips() {
    const string text = "café 中文 👩‍💻";
    uint[] ids = cl100k.Encode(text);
    Assert.AreEqual(text, cl100k.DecodeString(ids));
    CollectionAssert.AreEqual(Encoding.UTF8.GetBytes(text), cl100k.Decode(ids));
    Assert.AreEqual(ids.Length, cl100k.Count(text));
  }

  // Text crosses with its length, so a NUL is a character like any other.
  [Test]
  public void TextWithANul_RoundTrips() {
    const string text = "a\0b";
    Assert.AreEqual(text, cl100k.DecodeString(cl100k.Encode(text)));
  }

  [Test]
  public void EmptyText_HasNoTokens() {
    CollectionAssert.IsEmpty(cl100k.Encode(""));
    Assert.AreEqual(0, cl100k.Count(""));
    Assert.AreEqual("", cl100k.DecodeString(new uint[0]));
  }

  [Test]
  public void Encode_OfBytes_MatchesEncode_OfTheString() {
    byte[] bytes = Encoding.UTF8.GetBytes("xx hello world xx");
    CollectionAssert.AreEqual(cl100k.Encode("hello world"), cl100k.Encode(new ReadOnlySpan<byte>(bytes, 3, 11)));
    Assert.AreEqual(cl100k.Count("xx hello world xx"), cl100k.Count(bytes));
  }

  [Test]
  public void SpecialTokenText_FollowsTheMode() {
    const string text = "a<|endoftext|>b";
    uint[] allowed = cl100k.Encode(text, SpecialMode.Allow);
    Assert.AreEqual(3, allowed.Length);
    Assert.AreEqual(EndOfText, allowed[1]);
    Assert.AreEqual(text, cl100k.DecodeString(allowed));

    var e = Assert.Throws<LlmkitException>(() => cl100k.Encode(text));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
    StringAssert.Contains("<|endoftext|>", e.Message);
    Assert.Throws<LlmkitException>(() => cl100k.Count(text, SpecialMode.Disallow));

    uint[] asText = cl100k.Encode(text, SpecialMode.AsText);
    Assert.Greater(asText.Length, 3);
    CollectionAssert.DoesNotContain(asText, EndOfText);
    Assert.AreEqual(text, cl100k.DecodeString(asText));
    Assert.AreEqual(asText.Length, cl100k.Count(text, SpecialMode.AsText));
  }

  // Bytes reach the library unchanged, so it is the library that finds the bad byte.
  [Test]
  public void InvalidUtf8_ThrowsInvalidArgumentWithTheByteOffset() {
    byte[] bad = { (byte)'a', (byte)'b', 0xFF, (byte)'c' };
    var e = Assert.Throws<LlmkitException>(() => cl100k.Encode(bad));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
    StringAssert.Contains("byte offset 2", e.Message);
    e = Assert.Throws<LlmkitException>(() => cl100k.Count(bad));
    StringAssert.Contains("byte offset 2", e.Message);
  }

  [Test]
  public void Encode_WithALoneSurrogateOrNull_ThrowsBeforeTheCall() {
    Assert.Catch<ArgumentException>(() => cl100k.Encode("bad \uD800"));
    Assert.Throws<ArgumentNullException>(() => cl100k.Encode((string)null));
  }

  [Test]
  public void Decode_OfAnUnknownId_ThrowsInvalidArgument() {
    var e = Assert.Throws<LlmkitException>(() => cl100k.Decode(new uint[] { 15339, 200000 }));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
    StringAssert.Contains("200000", e.Message);
  }

  [Test]
  public void CountBatch_EqualsCountsOneByOne() {
    string[] texts = { "hello world", "", "café 中文 👩‍💻", "a<|endoftext|>b", new string('x', 5000) };
    long[] expected = texts.Select(t => cl100k.Count(t, SpecialMode.AsText)).ToArray();
    CollectionAssert.AreEqual(expected, cl100k.CountBatch(texts, SpecialMode.AsText));
    CollectionAssert.IsEmpty(cl100k.CountBatch(new string[0]));
  }

  [Test]
  public void CountBatch_NamesTheFirstFailingText() {
    var e = Assert.Throws<LlmkitException>(
        () => cl100k.CountBatch(new[] { "ok", "a<|endoftext|>b", "<|endoftext|>" }));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
    StringAssert.StartsWith("text 1: ", e.Message);
    StringAssert.Contains("<|endoftext|>", e.Message);
  }

  [Test]
  public void Use_AfterDispose_ThrowsObjectDisposedException() {
    cl100k.Dispose();
    cl100k.Dispose();
    Assert.Throws<ObjectDisposedException>(() => cl100k.Encode("hello"));
    Assert.Throws<ObjectDisposedException>(() => cl100k.Count("hello"));
    Assert.Throws<ObjectDisposedException>(() => cl100k.CountBatch(new[] { "hello" }));
    Assert.Throws<ObjectDisposedException>(() => cl100k.Decode(new uint[] { 15339 }));
    Assert.Throws<ObjectDisposedException>(() => { var unused = cl100k.Name; });
    Assert.Throws<ObjectDisposedException>(() => { var unused = cl100k.NVocab; });
  }

  // One tokenizer, many threads: every result must match the one computed
  // alone, and every error must carry its own thread's message.
  [Test]
  public void SharedTokenizer_OnManyThreads_GivesTheSameResults() {
    string[] texts = Enumerable.Range(0, 8)
        .Select(i => string.Concat(Enumerable.Repeat($"thread {i} says héllo 世界 ", 50 * (i + 1))))
        .ToArray();
    uint[][] expectedIds = texts.Select(t => cl100k.Encode(t)).ToArray();
    var failures = new string[texts.Length];
    var threads = Enumerable.Range(0, texts.Length).Select(i => new Thread(() => {
      try {
        for (int n = 0; n < 50 && failures[i] == null; n++) {
          uint[] ids = cl100k.Encode(texts[i]);
          if (!ids.SequenceEqual(expectedIds[i])) failures[i] = "encode differs";
          else if (cl100k.Count(texts[i]) != ids.Length) failures[i] = "count differs";
          else if (cl100k.DecodeString(ids) != texts[i]) failures[i] = "decode differs";
          else if (cl100k.CountBatch(texts)[i] != ids.Length) failures[i] = "batch differs";
          string bad = new string('x', i + n) + "<|endoftext|>";
          try {
            cl100k.Encode(bad);
            failures[i] = "no exception";
          } catch (LlmkitException e) {
            if (!e.Message.Contains($"byte offset {i + n}")) failures[i] = e.Message;
          }
        }
      } catch (Exception e) {
        failures[i] = e.ToString();
      }
    })).ToArray();
    foreach (var t in threads) t.Start();
    foreach (var t in threads) t.Join();
    CollectionAssert.AreEqual(new string[texts.Length], failures);
  }
}

}
