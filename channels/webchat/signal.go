package webchat

import "sync"

// Signal wakes this process's open streams of one visitor when a message of
// theirs was just written here (their own POST, a reply handed to Sender),
// so that it shows at once instead of at the next poll. Streams keep
// polling: messages written by other replicas reach them that way. The
// zero value is ready to use; a nil *Signal wakes nothing.
type Signal struct {
	mu    sync.Mutex
	waits map[string]*waiting
}

type waiting struct {
	ch chan struct{}
	n  int // streams holding ch
}

func signalKey(bot, address string) string { return bot + "\x00" + address }

// subscribe returns a channel closed by the next notify of (bot, address),
// and the release to call once done waiting on it.
func (s *Signal) subscribe(bot, address string) (<-chan struct{}, func()) {
	if s == nil {
		return nil, func() {}
	}
	key := signalKey(bot, address)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waits == nil {
		s.waits = map[string]*waiting{}
	}
	w := s.waits[key]
	if w == nil {
		w = &waiting{ch: make(chan struct{})}
		s.waits[key] = w
	}
	w.n++
	return w.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.n--
		// A notified entry is already gone from the map; an idle one is
		// dropped with its last stream, so the map holds open streams only.
		if w.n == 0 && s.waits[key] == w {
			delete(s.waits, key)
		}
	}
}

// Notify wakes the streams of (bot, address) waiting now.
func (s *Signal) Notify(bot, address string) {
	if s == nil {
		return
	}
	key := signalKey(bot, address)
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.waits[key]; w != nil {
		close(w.ch)
		delete(s.waits, key)
	}
}
