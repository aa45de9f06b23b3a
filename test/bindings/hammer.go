// One process of test/bindings/shared_limit_test.sh: checks one key of a
// shared-memory rate limit from Go, as a Go service would.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"llmkit"
)

func main() {
	name, start, ms := os.Args[1], must(strconv.ParseInt(os.Args[2], 10, 64)), must(strconv.ParseInt(os.Args[3], 10, 64))
	opts := must(llmkit.NewOptions())
	for k, v := range map[string]string{"backend": "shm", "shm.name": name, "requests": "1000", "window": "1", "burst_requests": "50"} {
		if err := opts.Set(k, v); err != nil {
			panic(err)
		}
	}
	rl := must(llmkit.NewRateLimiter(opts))
	defer rl.Close()
	time.Sleep(time.Until(time.UnixMilli(start)))
	first := time.Now()
	end := first.Add(time.Duration(ms) * time.Millisecond)
	admitted := 0
	for time.Now().Before(end) {
		if must(rl.Check("shared", 0)).Allowed {
			admitted++
		}
	}
	fmt.Printf("go %d %d %d\n", admitted, first.UnixMicro(), time.Now().UnixMicro())
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
