package daemon

import "sync"

// Event kinds.
const (
	EventTick    = "tick"    // stats were refreshed (every Config.Tick)
	EventAdded   = "added"   // a torrent was added
	EventRemoved = "removed" // a torrent was removed
	EventChanged = "changed" // a torrent changed state
)

// Event tells subscribers that something changed; they read the details through the API.
type Event struct {
	Kind     string `json:"kind"`
	InfoHash string `json:"info_hash,omitempty"`
}

// broadcaster fans events out to subscribers without ever blocking the publisher: a
// subscriber that does not keep up loses events (it re-reads the state at the next one).
type broadcaster struct {
	mu     sync.Mutex
	subs   map[chan Event]struct{}
	closed bool
}

// Subscribe returns a channel of events and a function that ends the subscription. The
// channel is closed when the daemon stops or cancel is called.
func (d *Daemon) Subscribe() (<-chan Event, func()) {
	return d.subs.subscribe()
}

func (b *broadcaster) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 16)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if b.subs == nil {
		b.subs = map[chan Event]struct{}{}
	}
	b.subs[ch] = struct{}{}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

func (b *broadcaster) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (b *broadcaster) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		close(ch)
	}
	b.subs = nil
}
