package llmkit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"llmkit"
)

func ExampleRateLimiter() {
	opts, _ := llmkit.NewOptions()
	opts.Set("requests", "2") // a minute
	opts.Set("tokens", "90000")
	rl, err := llmkit.NewRateLimiter(opts)
	opts.Close() // the limiter has its own copy
	if err != nil {
		panic(err)
	}
	defer rl.Close()

	for i := 0; i < 3; i++ {
		d, _ := rl.Check("user-42", 1200)
		fmt.Println(d.Allowed, d.RetryAfter.Round(time.Second), d.RemainingRequests)
	}
	rl.Reconcile("user-42", 1200, 950) // the first request used 950 tokens

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = rl.Acquire(ctx, "user-42", 1200) // the next fits in 30 s: gives up at once
	fmt.Println(errors.Is(err, llmkit.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// true 0s 1
	// true 0s 0
	// false 30s 0
	// true true
}
