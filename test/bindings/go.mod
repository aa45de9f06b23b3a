module llmkit-hammer

go 1.19

require llmkit v0.0.0

replace llmkit => ../../bindings/go
