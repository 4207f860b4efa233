package tracker

import (
	"errors"
	"testing"
)

// FuzzParseAnnounce checks that any query either parses into a request within the documented
// bounds or fails with a *ClientError, and never panics.
func FuzzParseAnnounce(f *testing.F) {
	f.Add("info_hash=%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14&peer_id=-SW0001-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=0&event=started&numwant=80&compact=1")
	f.Add("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=65535&left=99&no_peer_id=1&compact=0&ip=::1&key=abc")
	f.Add("info_hash=%zz&peer_id=&port=-1")
	f.Add("port=0&port=65536&numwant=-1&event=paused&left=-1")
	f.Add("&&&=&==&info_hash=+++++++++++++++++++%2B")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseAnnounce(raw)
		if err != nil {
			var ce *ClientError
			if !errors.As(err, &ce) || ce.Reason == "" {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if q.Port == 0 || q.NumWant < 0 || q.NumWant > maxNumWant || q.Uploaded < 0 || q.Downloaded < 0 {
			t.Fatalf("out of bounds request %+v", q)
		}
		if q.Event > EventStopped {
			t.Fatalf("bad event %d", q.Event)
		}
	})
}

// FuzzParseScrape checks the scrape parser the same way.
func FuzzParseScrape(f *testing.F) {
	f.Add("info_hash=aaaaaaaaaaaaaaaaaaaa&info_hash=%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14")
	f.Add("info_hash=short")
	f.Fuzz(func(t *testing.T, raw string) {
		hs, err := parseScrape(raw)
		if err != nil {
			if _, ok := errors.AsType[*ClientError](err); !ok {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(hs) > maxScrapeHashes {
			t.Fatalf("%d hashes", len(hs))
		}
	})
}
