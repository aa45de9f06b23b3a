// The README's Go example: version, options and the error model.
package main

import (
	"errors"
	"fmt"

	"llmkit"
)

func main() {
	fmt.Println("llmkit", llmkit.Version())
	opts, err := llmkit.NewOptions()
	if err != nil {
		panic(err)
	}
	defer opts.Close()
	opts.Set("model", "gpt-4o-mini")
	if model, err := opts.Get("model"); err == nil {
		fmt.Println("model =", model)
	}

	var e *llmkit.Error
	if _, err := opts.Get("temperature"); errors.As(err, &e) {
		fmt.Printf("error %s: %s\n", e.Status, e.Message)
	}
}
