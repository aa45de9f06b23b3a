module llmkit

go 1.19
