package tracker

import (
	"testing"
)

// FuzzParseAnnounceReply checks that any reply body parses into sane values or fails, and never
// panics or allocates beyond the body's size.
func FuzzParseAnnounceReply(f *testing.F) {
	f.Add([]byte("d8:completei2e10:incompletei3e8:intervali1800e12:min intervali60e5:peers6:\x0a\x00\x00\x01\x1a\xe1e"))
	f.Add([]byte("d8:intervali5e5:peersld2:ip8:10.0.0.27:peer id20:-XX0000-aaaaaaaaaaaa4:porti99eeee"))
	f.Add([]byte("d14:failure reason4:nope15:warning message1:we"))
	f.Add([]byte("d6:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x50e"))
	f.Add([]byte("d5:peers99999999999:e"))
	f.Add([]byte("d8:intervali-1ee"))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, _, err := parseAnnounceReply(body)
		if err != nil {
			return
		}
		if resp.Interval < 0 || resp.Interval > maxInterval || resp.MinInterval < 0 || resp.Complete < 0 || resp.Incomplete < 0 {
			t.Fatalf("out of bounds reply %+v", resp)
		}
		if len(resp.Peers) > len(body)/6 {
			t.Fatalf("%d peers from %d bytes", len(resp.Peers), len(body))
		}
		for _, p := range resp.Peers {
			if p.Addr.Port() == 0 || !p.Addr.Addr().IsValid() {
				t.Fatalf("bad peer %v", p)
			}
		}
	})
}

// FuzzParseScrapeReply checks the scrape reply parser the same way.
func FuzzParseScrapeReply(f *testing.F) {
	f.Add([]byte("d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1e10:downloadedi2e10:incompletei3eeee"))
	f.Add([]byte("d14:failure reason1:xe"))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := parseScrapeReply(body)
		if err != nil {
			return
		}
		for _, c := range out {
			if c.Complete < 0 || c.Incomplete < 0 || c.Downloaded < 0 {
				t.Fatalf("negative counts %+v", c)
			}
		}
	})
}
