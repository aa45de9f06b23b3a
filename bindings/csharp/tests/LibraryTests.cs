using System;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Llmkit.Tests {

[TestFixture]
public class LibraryTests {
  [Test]
  public void Version_MatchesTheHeaderTheBindingWasBuiltFrom() {
    Assert.AreEqual(Native.LLMKIT_VERSION_STRING, Library.Version);
    Assert.AreEqual(Native.LLMKIT_VERSION_NUMBER, Library.VersionNumber);
  }

  [Test]
  public void VersionNumber_IsComputedFromTheVersionPieces() {
    int[] v = Library.Version.Split('.').Select(int.Parse).ToArray();
    Assert.AreEqual(3, v.Length);
    Assert.AreEqual(v[0] * 10000 + v[1] * 100 + v[2], Library.VersionNumber);
  }

  [Test]
  public void Status_HasTheHeadersSixteenValuesInOrder() {
    int[] values = Enum.GetValues(typeof(Status)).Cast<int>().ToArray();
    CollectionAssert.AreEqual(Enumerable.Range(0, 16).ToArray(), values);
    Assert.AreEqual(14, (int)Status.Unavailable);
    Assert.AreEqual(15, (int)Status.Overloaded);
  }

  [Test]
  public void StatusString_IsTheMemberNameInConstantCase() {
    foreach (Status s in Enum.GetValues(typeof(Status))) {
      string constant = Regex.Replace(s.ToString(), "(?<=[a-z])(?=[A-Z])", "_").ToUpperInvariant();
      Assert.AreEqual(constant, Library.StatusString(s));
    }
    Assert.AreEqual("NOT_FOUND", Library.StatusString(Status.NotFound));
  }

  [Test]
  public void StatusString_OfAnUnknownValue_IsUnknown() {
    Assert.AreEqual("UNKNOWN", Library.StatusString((Status)999));
  }
}

}
