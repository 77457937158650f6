package engine

// WithSpillRun sets how many outbox items an import holds before it sorts
// them on disk, so tests can make small exports spill.
func WithSpillRun(o ImporterOptions, n int) ImporterOptions {
	o.spillRun = n
	return o
}
