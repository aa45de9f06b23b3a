using NUnit.Framework;

namespace Llmkit.Tests {

// A fixture whose tests call test/upstream/upstream.py: one upstream for all
// of its tests, as starting it takes a python3 process.
public abstract class UpstreamTest {
  // internal, not protected: Upstream is internal and the fixtures public.
  internal Upstream upstream;

  [TestFixtureSetUp]
  public void StartUpstream() {
    upstream = new Upstream();  // throws, failing every test, when it cannot start
  }

  [TestFixtureTearDown]
  public void StopUpstream() {
    upstream?.Dispose();
  }

  // A client of `provider` on the upstream, one try per call
  // (ClientTests.ClientOpts); keyValues add options.
  internal Client UpstreamClient(string provider, string apiKey, params string[] keyValues) {
    using (Options o = ClientTests.ClientOpts(keyValues)) {
      o["provider"] = provider;
      o["base_url"] = upstream.BaseUrl(provider);
      o["api_key"] = apiKey;
      return new Client(o);
    }
  }
}

}
