package llmkit_test

import (
	"context"
	"fmt"
	"time"

	"llmkit"
)

func ExampleCache() {
	opts, _ := llmkit.NewOptions()
	opts.Set("ttl", "600") // seconds an entry lives unless Put says otherwise
	cache, err := llmkit.NewCache(opts)
	opts.Close() // the cache has its own copy
	if err != nil {
		panic(err)
	}
	defer cache.Close()

	// Key order and number spelling do not change the key.
	a, mode, _ := cache.Key("team-a", "openai", []byte(`{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Hi"}]}`), nil)
	b, _, _ := cache.Key("team-a", "openai", []byte(`{"messages":[{"content":"Hi","role":"user"}],"temperature":0.0,"model":"gpt-4o-mini"}`), nil)
	fmt.Println(a == b, len(a), mode)

	callUpstream := func() ([]byte, error) { return []byte(`{"choices":[{"message":{"content":"Hello!"}}]}`), nil }
	for i := 0; i < 2; i++ { // a miss that calls upstream, then a hit
		answer, err := cache.GetOrFill(context.Background(), a, 10*time.Second, callUpstream)
		fmt.Println(string(answer), err)
	}
	s, _ := cache.Stats()
	fmt.Println(s.Hits, s.Misses, s.Entries)
	// Output:
	// true 32 use
	// {"choices":[{"message":{"content":"Hello!"}}]} <nil>
	// {"choices":[{"message":{"content":"Hello!"}}]} <nil>
	// 1 1 1
}

func ExampleCache_Embeddings() {
	cache, _ := llmkit.NewCache(nil) // every default
	defer cache.Close()
	upstream := func(request []byte) ([]byte, error) {
		fmt.Println("upstream:", string(request))
		return []byte(`{"object":"list","data":[{"index":0,"embedding":[0.5,0.25]}],"usage":{"prompt_tokens":1,"total_tokens":1}}`), nil
	}
	cache.Embeddings("", "openai", []byte(`{"model":"text-embedding-3-small","input":["hi"]}`), upstream)
	answer, _ := cache.Embeddings("", "openai", []byte(`{"model":"text-embedding-3-small","input":["hi","ho"]}`), upstream)
	fmt.Println(string(answer))
	// Output:
	// upstream: {"model":"text-embedding-3-small","input":["hi"]}
	// upstream: {"model":"text-embedding-3-small","input":["ho"]}
	// {"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,0.25]},{"object":"embedding","index":1,"embedding":[0.5,0.25]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":1,"total_tokens":1}}
}

func ExampleReplay() {
	completion := []byte(`{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}]}`)
	chunks, err := llmkit.Replay(completion, 6) // content in pieces of at most 6 bytes
	if err != nil {
		panic(err)
	}
	for _, c := range chunks {
		fmt.Printf("data: %s\n\n", c) // server-sent events
	}
	// Output:
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
	//
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello "},"logprobs":null,"finish_reason":null}]}
	//
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"there!"},"logprobs":null,"finish_reason":null}]}
	//
	// data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}
}
