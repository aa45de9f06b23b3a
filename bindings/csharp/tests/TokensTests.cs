using NUnit.Framework;

namespace Llmkit.Tests {

[TestFixture]
public class TokensTests {
  const string Text = "The quick brown fox jumps over the lazy dog. <|endoftext|> Ünïcödé!";

  [Test]
  public void EncodingForModel_KnowsOpenAIModels() {
    Assert.AreEqual("o200k_base", Tokens.EncodingForModel("gpt-4o"));
    Assert.AreEqual("cl100k_base", Tokens.EncodingForModel("gpt-4"));
    var e = Assert.Throws<LlmkitException>(() => Tokens.EncodingForModel("claude-3"));
    Assert.AreEqual(Status.NotFound, e.Status);
  }

  // As the API does, the model count reads special-token spellings as text.
  [Test]
  public void Count_IsTheModelsEncodingCountWithSpecialsAsText() {
    using (var o200k = new Tokenizer("o200k_base")) {
      Assert.AreEqual(o200k.Count(Text, SpecialMode.AsText), Tokens.Count("gpt-4o", Text));
    }
    Assert.AreEqual(Status.NotFound,
                    Assert.Throws<LlmkitException>(() => Tokens.Count("claude-3", Text)).Status);
  }

  [Test]
  public void Estimate_IsTheO200kCount_ExactOnlyForOpenAI() {
    using (var o200k = new Tokenizer("o200k_base")) {
      long expected = o200k.Count(Text, SpecialMode.AsText);
      TokenEstimate claude = Tokens.Estimate("claude-sonnet-4", Text);
      Assert.AreEqual(expected, claude.Count);
      Assert.IsFalse(claude.Exact);
      TokenEstimate gpt = Tokens.Estimate("gpt-4o", Text);
      Assert.AreEqual(expected, gpt.Count);
      Assert.IsTrue(gpt.Exact);
    }
  }

  // OpenAI's recipe: 3 per message, its role and content, 3 to prime the reply.
  [Test]
  public void CountChat_FollowsOpenAIsPerMessageRule() {
    long expected;
    using (var o200k = Tokenizer.ForModel("gpt-4o")) {
      expected = 3 + o200k.Count("user") + o200k.Count("hello world") + 3;
    }
    Assert.AreEqual(9, expected);
    const string messages = "[{\"role\":\"user\",\"content\":\"hello world\"}]";
    Assert.AreEqual(expected, Tokens.CountChat("gpt-4o", messages));
    Assert.AreEqual(expected, Tokens.CountChat("gpt-4o", messages, null));

    const string tools = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"," +
        "\"description\":\"Current weather\",\"parameters\":{\"type\":\"object\"," +
        "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";
    Assert.Greater(Tokens.CountChat("gpt-4o", messages, tools), expected);
  }

  [Test]
  public void CountChat_WithMalformedJson_ThrowsInvalidArgument() {
    var e = Assert.Throws<LlmkitException>(() => Tokens.CountChat("gpt-4o", "[{\"role\":"));
    Assert.AreEqual(Status.InvalidArgument, e.Status);
  }
}

}
