package webchat

import "testing"

// open counts the visitors with a waiting stream.
func (s *Signal) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waits)
}

func TestSignal(t *testing.T) {
	var s Signal
	a1, releaseA1 := s.subscribe("shop", "v-a")
	a2, releaseA2 := s.subscribe("shop", "v-a")
	b, releaseB := s.subscribe("shop", "v-b")
	other, releaseOther := s.subscribe("acme", "v-a")
	if a1 != a2 {
		t.Fatal("two streams of one visitor wait on different channels")
	}
	s.Notify("shop", "v-a")
	for name, ch := range map[string]<-chan struct{}{"notified": a1} {
		select {
		case <-ch:
		default:
			t.Fatalf("%s channel not closed", name)
		}
	}
	for name, ch := range map[string]<-chan struct{}{"other visitor": b, "other bot": other} {
		select {
		case <-ch:
			t.Fatalf("%s woken", name)
		default:
		}
	}
	s.Notify("shop", "nobody-waits") // no stream: nothing to do, no entry made
	releaseA1()
	releaseA2()
	if n := s.open(); n != 2 {
		t.Fatalf("%d visitors waiting, want 2 (v-b and acme's v-a)", n)
	}
	releaseB()
	releaseOther()
	if n := s.open(); n != 0 {
		t.Fatalf("%d entries left after every stream released, want none", n)
	}
	again, release := s.subscribe("shop", "v-a")
	select {
	case <-again:
		t.Fatal("a new wait starts already woken")
	default:
	}
	release()

	var none *Signal
	ch, rel := none.subscribe("shop", "v-a")
	none.Notify("shop", "v-a")
	rel()
	if ch != nil {
		t.Fatal("a nil Signal gives a channel")
	}
}
