package routing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"parley/store"
	"parley/sync/transcript"
)

// ErrNoTranscript is matched (errors.Is) when a call's transcript is not
// (yet) in the data folder: not indexed, or indexed but the file is gone.
var ErrNoTranscript = errors.New("transcript not in the data folder")

// ReadTranscript reads the transcript file f indexes under dataDir,
// checking it is the file that was fetched (its SHA-256) and a valid
// transcript.
func ReadTranscript(dataDir string, f store.MediaFile) ([]transcript.Sentence, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("read transcript of call %s: no data folder is configured, so no transcript is kept", f.MessageID)
	}
	path := filepath.Join(dataDir, filepath.FromSlash(f.Path))
	// OpenInRoot: f.Path comes from the index, and a damaged one must not
	// lead outside the data folder.
	fh, err := os.OpenInRoot(dataDir, filepath.FromSlash(f.Path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read transcript of call %s: %w: %s is indexed but missing; fetch the call's media again", f.MessageID, ErrNoTranscript, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read transcript of call %s from %s: %w; fetch the call's media again", f.MessageID, path, err)
	}
	defer fh.Close()
	// Read into a buffer of the indexed size: growing one is most of the
	// garbage a preview over many files makes.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(f.Size, 0), transcript.MaxSize)+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(fh, transcript.MaxSize+1))
	b := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read transcript of call %s from %s: %w", f.MessageID, path, err)
	}
	if f.SHA256 != "" && len(b) <= transcript.MaxSize {
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 {
			return nil, fmt.Errorf("read transcript of call %s: %w: %s changed since it was fetched (its checksum differs); fetch the call's media again",
				f.MessageID, transcript.ErrInvalid, path)
		}
	}
	ss, err := transcript.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("read transcript of call %s from %s: %w", f.MessageID, path, err)
	}
	return ss, nil
}

// PreviewMatch is a place an unsaved rule would have matched.
type PreviewMatch struct {
	// ContactID and MessageID are the HighLevel contact and call.
	ContactID, MessageID string
	// At is when the call's transcript was stored, shortly after the call.
	At time.Time
	Hit
}

// PreviewResult is what "test this rule against recent transcripts"
// shows: the matches, how many transcripts were read, and the ones that
// could not be (with why), so an empty result is never ambiguous.
type PreviewResult struct {
	Matches []PreviewMatch
	// Calls is how many transcripts were read; Matched how many of them
	// the rule matched.
	Calls, Matched int
	Skipped        []error
}

// Preview runs one rule, saved or not, over the n most recent transcripts
// of the media index and returns what it would have matched, newest call
// first, without taking any action. The rule is matched as if enabled. A
// stored transcript knows it is a call but not its direction, so a
// direction filter is not applied here. The rules screen, which previews
// again at each edit, uses a Previewer instead.
func Preview(ctx context.Context, st *store.Store, dataDir string, r Rule, n int) (PreviewResult, error) {
	return (&Previewer{Store: st, DataDir: dataDir}).Preview(ctx, r, n)
}

// MaxPreviewCache bounds the transcript text a Previewer keeps, in bytes.
const MaxPreviewCache = 64 << 20

// Previewer previews rules like Preview and keeps the transcripts it has
// read (up to MaxPreviewCache bytes of text), so that trying a rule again
// while editing it costs only the matching. It is safe for concurrent use.
type Previewer struct {
	Store   *store.Store
	DataDir string

	mu    sync.Mutex
	cache map[string][]transcript.Sentence // by path and checksum
	size  int
}

func (p *Previewer) read(f store.MediaFile) ([]transcript.Sentence, error) {
	key := f.Path + "@" + f.SHA256
	p.mu.Lock()
	ss, ok := p.cache[key]
	p.mu.Unlock()
	if ok {
		return ss, nil
	}
	ss, err := ReadTranscript(p.DataDir, f)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, s := range ss {
		n += len(s.Text)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil || p.size+n > MaxPreviewCache {
		// Starting over is simpler than an LRU and as good here: a
		// preview reads the same newest files each time.
		p.cache, p.size = map[string][]transcript.Sentence{}, 0
	}
	if n <= MaxPreviewCache {
		p.cache[key], p.size = ss, p.size+n
	}
	return ss, nil
}

// Preview is the package's Preview, reading through the cache.
func (p *Previewer) Preview(ctx context.Context, r Rule, n int) (PreviewResult, error) {
	c, err := Compile(r)
	if err != nil {
		return PreviewResult{}, err
	}
	c.Conditions.Direction = ""
	files, err := p.Store.RecentTranscripts(ctx, n)
	if err != nil {
		return PreviewResult{}, err
	}
	// Reading and decoding the files is most of the work: spread it over
	// the cores, then put the results back in the index's order.
	type outcome struct {
		hits []Hit
		err  error
	}
	out := make([]outcome, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files), 8) {
		wg.Go(func() {
			rules := []*Compiled{c}
			for i := range next {
				ss, err := p.read(files[i])
				if err != nil {
					out[i].err = err
					continue
				}
				if ds := Match(rules, ss, "call", ""); len(ds) > 0 {
					out[i].hits = ds[0].Hits
				}
			}
		})
	}
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return PreviewResult{}, err
	}
	var res PreviewResult
	for i, f := range files {
		if out[i].err != nil {
			res.Skipped = append(res.Skipped, out[i].err)
			continue
		}
		res.Calls++
		if len(out[i].hits) > 0 {
			res.Matched++
		}
		for _, h := range out[i].hits {
			res.Matches = append(res.Matches, PreviewMatch{ContactID: f.ContactID, MessageID: f.MessageID, At: f.FetchedAt, Hit: h})
		}
	}
	return res, nil
}
