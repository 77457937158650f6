package main

// targets are the table's rows, in order: one line each. The targets are
// the ones BENCHMARKS.md and the issues state; a figures file (crash.txt,
// soak.txt, import.txt) is what a script leaves in the results folder.
//
// The engine rows ask for 100,000 messages across 1,000 contacts;
// scripts/bench.sh sets that size through PARLEY_BENCH_MESSAGES and
// PARLEY_BENCH_CONTACTS, and the row shows the size when the benchmark
// reports it as the metrics "messages" and "contacts".
var targets = []target{
	{"History append, batches of 1,000", "store", "BenchmarkAppendHistory/batch=1000", "rows/s", atLeast, 200_000, "rows/s", 1, nil},
	{"History append building 1M rows, batches of 10,000", "store", "BenchmarkHistoryFileSize", "build-append-rows/s", atLeast, 200_000, "rows/s", 1, nil},
	{"One filtered page of 100 of 1M history rows, every listed case", "store", "BenchmarkHistoryPage/.*", "ms/page", below, 20, "ms", 1, nil},
	{"History search on 1M rows, the known worst cases", "store", "BenchmarkHistoryPage/worst/.*", "ms/page", below, 20, "ms", 1, nil},
	{"1M history rows on disk, search index included", "store", "BenchmarkHistoryFileSize", "MB", below, 400, "MB", 1, nil},
	{"Client + sandbox on loopback, limits off", "sync/ghl", "BenchmarkParallel", "req/s", atLeast, 5_000, "req/s", 1, nil},
	{"30 s paced at a 1 s window of 100: budget used", "sync/ghl", "BenchmarkPacedBudget", "budget-%", atLeast, 95, "%", 1, nil},
	{"30 s paced at a 1 s window of 100: 429s received", "sync/ghl", "BenchmarkPacedBudget", "429s", equal, 0, "", 1, nil},
	{"Read 100,000 ActiveDEMAND messages, limits off", "sync/activedemand", "BenchmarkReadMessages", "msgs/s", atLeast, 20_000, "messages/s", 1, nil},
	{"Engine: mirrored end to end, sandboxes' limits off", "sync/engine", "BenchmarkMirror", "messages/s", atLeast, 2_000, "messages/s", 1, []string{"messages", "contacts"}},
	{"Engine: peak resident memory of a `parley sync --once` process backfilling (sandboxes in another process)", "ui/smoke", "BenchmarkSyncProcessMemory", "peak-rss-MB", below, 150, "MB", 1, []string{"messages", "contacts"}},
	{"Engine: HighLevel calls per mirrored message", "sync/engine", "BenchmarkMirror", "ghl-calls/message", atMost, 1.05, "", 1, []string{"messages", "contacts"}},
	{"Import of a 1,000,000-message export: peak resident memory", "import.txt", "import", "peak-rss-kB", below, 150, "MB", 1.024e-3, nil},
	{"Open a contact with 1,000 messages", "sync/engine", "BenchmarkOpenContact1000", "ns/op", below, 200, "ms", 1e-6, nil},
	{"Console start to first frame, warm", "ui/smoke", "BenchmarkConsoleStart", "ns/op", below, 1, "s", 1e-9, nil},
	{"Crash: messages lost over 200 kills", "crash.txt", "crash", "lost", equal, 0, "", 1, []string{"messages", "kills"}},
	{"Crash: messages duplicated over 200 kills", "crash.txt", "crash", "duplicated", equal, 0, "", 1, []string{"messages", "kills"}},
	{"Soak with faults: messages lost", "soak.txt", "soak", "lost", equal, 0, "", 1, []string{"messages"}},
	{"Soak with faults: messages duplicated", "soak.txt", "soak", "duplicated", equal, 0, "", 1, []string{"messages"}},
}
