package engine

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"parley/store"
)

// defaultSpillRun is how many outbox items a spillSorter holds before it
// writes them out: about 5 MB of messages.
const defaultSpillRun = 10_000

// spillSorter orders outbox items by a time, file order among equals,
// holding at most run of them in memory: a full run is sorted and written
// to a temporary file, and the runs are merged when read back. An import
// queues messages oldest first, and a million of them would not fit the
// memory an import may take.
//
// The temporary file holds message text, so it is created private (0600)
// and removed by close.
type spillSorter struct {
	run  int
	buf  []spillItem
	f    *os.File
	w    *bufio.Writer
	off  int64
	runs [][2]int64 // start and end offsets in f
	n    int
}

type spillItem struct {
	at  int64
	job store.OutboxJob
}

func newSpillSorter(run int) *spillSorter {
	if run <= 0 {
		run = defaultSpillRun
	}
	return &spillSorter{run: run}
}

// len is how many items were added.
func (s *spillSorter) len() int { return s.n }

func (s *spillSorter) add(at int64, j store.OutboxJob) error {
	s.buf = append(s.buf, spillItem{at, j})
	s.n++
	if len(s.buf) >= s.run {
		return s.spill()
	}
	return nil
}

func (s *spillSorter) sortBuf() {
	slices.SortStableFunc(s.buf, func(a, b spillItem) int { return compareInt(a.at, b.at) })
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *spillSorter) spill() error {
	if len(s.buf) == 0 {
		return nil
	}
	if s.f == nil {
		f, err := os.CreateTemp("", "parley-import-*")
		if err != nil {
			return fmt.Errorf("sort the import: %w", err)
		}
		s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	s.sortBuf()
	start := s.off
	var hdr [binary.MaxVarintLen64]byte
	for _, it := range s.buf {
		binary.BigEndian.PutUint64(hdr[:8], uint64(it.at)) // #nosec G115 -- the bits of it.at, turned back into the same int64 by runReader.next
		s.w.Write(hdr[:8])                                 // #nosec G104 -- a bufio.Writer keeps its first error and Flush below returns it
		for _, part := range [][]byte{[]byte(it.job.Kind), []byte(it.job.Key), it.job.Payload} {
			n := binary.PutUvarint(hdr[:], uint64(len(part)))
			s.w.Write(hdr[:n]) // #nosec G104 -- a bufio.Writer keeps its first error and Flush below returns it
			s.w.Write(part)    // #nosec G104 -- a bufio.Writer keeps its first error and Flush below returns it
			s.off += int64(n + len(part))
		}
		s.off += 8
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sort the import: %w", err)
	}
	s.runs = append(s.runs, [2]int64{start, s.off})
	clear(s.buf)
	s.buf = s.buf[:0]
	return nil
}

// each calls fn with every item in order. It is called once.
func (s *spillSorter) each(fn func(store.OutboxJob) error) error {
	if s.f == nil {
		s.sortBuf()
		for _, it := range s.buf {
			if err := fn(it.job); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.spill(); err != nil {
		return err
	}
	h := &runHeap{}
	for i, r := range s.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.f, r[0], r[1]-r[0]), 16<<10), ix: i}
		if ok, err := rr.next(); err != nil {
			return err
		} else if ok {
			h.items = append(h.items, rr)
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		rr := h.items[0]
		if err := fn(rr.cur.job); err != nil {
			return err
		}
		ok, err := rr.next()
		switch {
		case err != nil:
			return err
		case ok:
			heap.Fix(h, 0)
		default:
			heap.Pop(h)
		}
	}
	return nil
}

func (s *spillSorter) close() {
	if s.f != nil {
		s.f.Close()           // #nosec G104 -- the run file is thrown away; only the removal below matters
		os.Remove(s.f.Name()) // #nosec G104 -- close runs deferred with no one to tell; the file is private (0600) in the temp folder
		s.f = nil
	}
	s.buf = nil
}

type runReader struct {
	r   *bufio.Reader
	ix  int
	cur spillItem
}

func (rr *runReader) next() (bool, error) {
	var at [8]byte
	if _, err := io.ReadFull(rr.r, at[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, fmt.Errorf("sort the import: %w", err)
	}
	var parts [3][]byte
	for i := range parts {
		n, err := binary.ReadUvarint(rr.r)
		if err == nil {
			parts[i] = make([]byte, n)
			_, err = io.ReadFull(rr.r, parts[i])
		}
		if err != nil {
			return false, fmt.Errorf("sort the import: %w", err)
		}
	}
	rr.cur = spillItem{at: int64(binary.BigEndian.Uint64(at[:])), // #nosec G115 -- the bits spill wrote from an int64
		job: store.OutboxJob{Kind: string(parts[0]), Key: string(parts[1]), Payload: parts[2]}}
	return true, nil
}

// runHeap orders runs by their current item, earlier runs first among
// equals, so items of equal time keep the order they were added in.
type runHeap struct{ items []*runReader }

func (h *runHeap) Len() int { return len(h.items) }
func (h *runHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.cur.at != b.cur.at {
		return a.cur.at < b.cur.at
	}
	return a.ix < b.ix
}
func (h *runHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *runHeap) Push(x any)    { h.items = append(h.items, x.(*runReader)) }
func (h *runHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
