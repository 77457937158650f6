package routing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"parley/sync/transcript"
)

// callWords is the vocabulary of the generated calls.
var callWords = strings.Fields(`hello thanks I you we the a an to for of and my your account order card bill
payment charge please could would can help support question number problem issue time today week month call back
email address change update service plan price cost discount team manager speak agent wait sorry okay yes no`)

// fakeCall is a call of n sentences of about 12 words, one in ten
// mentioning a refund.
func fakeCall(rng *rand.Rand, n int) []transcript.Sentence {
	ss := make([]transcript.Sentence, n)
	for i := range ss {
		w := make([]string, 12)
		for k := range w {
			w[k] = callWords[rng.IntN(len(callWords))]
		}
		if rng.IntN(10) == 0 {
			w[rng.IntN(len(w))] = "refund"
		}
		ss[i] = transcript.Sentence{Channel: 1 + i%2, Start: time.Duration(i) * 4 * time.Second, End: time.Duration(i)*4*time.Second + 3*time.Second,
			Text: strings.Join(w, " ") + "."}
	}
	return ss
}

// BenchmarkPreview1000 is "test this rule against recent transcripts" over
// 1,000 stored calls of 150 sentences (about ten minutes each): read,
// check, decode and match every file (cold), or only match them again
// (warm: the rules screen's Previewer after its first preview).
func BenchmarkPreview1000(b *testing.B) {
	b.Run("cold", func(b *testing.B) { benchPreview(b, false) })
	b.Run("warm", func(b *testing.B) { benchPreview(b, true) })
}

func benchPreview(b *testing.B, warm bool) {
	st, dir := openStore(b), b.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		putTranscript(b, st, dir, fmt.Sprintf("c%d", i%300), fmt.Sprintf("m%d", i), t0.Add(time.Duration(i)*time.Minute), fakeCall(rng, 150))
	}
	r := Rule{Name: "Refunds", Conditions: Conditions{Keywords: []string{"refund*", "chargeback"}, Phrases: []string{"speak to a manager"}, Regex: `order #?\d{5}`},
		Actions: Actions{TeamTag: "billing"}}
	ctx := context.Background()
	p := &Previewer{Store: st, DataDir: dir}
	preview := func() (PreviewResult, error) { return Preview(ctx, st, dir, r, 1000) }
	if warm {
		p.Preview(ctx, r, 1000)
		preview = func() (PreviewResult, error) { return p.Preview(ctx, r, 1000) }
	}
	// CPU time as well as wall time: on a shared machine the wall time
	// says more about the neighbours than about Preview.
	cpu0 := cpuTime(b)
	for b.Loop() {
		res, err := preview()
		if err != nil || res.Calls != 1000 || res.Matched == 0 {
			b.Fatalf("%d calls, %d matched, %v", res.Calls, res.Matched, err)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkMatch is one call of 150 sentences against 20 rules.
func BenchmarkMatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ss := fakeCall(rng, 150)
	var rules []*Compiled
	for i := range 20 {
		rules = append(rules, compile(b, Rule{Name: fmt.Sprint(i), Conditions: Conditions{Keywords: []string{callWords[i], "refund*"}, Phrases: []string{"speak to a manager"}}}))
	}
	for b.Loop() {
		Match(rules, ss, "call", "inbound")
	}
}
