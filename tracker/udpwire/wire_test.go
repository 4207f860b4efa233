package udpwire

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A connect request as BEP 15 spells it out, byte by byte.
func TestConnectBytes(t *testing.T) {
	got := AppendConnect(nil, 0xdeadbeef)
	assert.Equal(t, "0000041727101980"+"00000000"+"deadbeef", hex.EncodeToString(got))
	h, err := ParseHeader(got)
	require.NoError(t, err)
	assert.Equal(t, Header{ConnID: ProtocolID, Action: ActionConnect, TxID: 0xdeadbeef}, h)
	assert.NoError(t, CheckConnect(h))
	assert.ErrorIs(t, CheckConnect(Header{ConnID: 1}), ErrProtocolID)
}

func TestAnnounceRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		urlData string
		size    int
	}{
		{"no url data", "", AnnounceSize},
		{"short path", "/announce?passkey=abc", AnnounceSize + 2 + 21 + 1},
		{"split in two options", "/" + strings.Repeat("x", 299), AnnounceSize + 2 + 255 + 2 + 45 + 1},
		{"capped", "/" + strings.Repeat("y", 2000), AnnounceSize + 5*2 + MaxURLData + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Announce{
				InfoHash: [20]byte{1, 2, 3}, PeerID: [20]byte{'-', 'S', 'W'},
				Downloaded: 10, Left: 1 << 40, Uploaded: 30, Event: EventStarted,
				IP: [4]byte{10, 0, 0, 1}, Key: 77, NumWant: -1, Port: 6881, URLData: []byte(tc.urlData),
			}
			b := AppendAnnounce(nil, 0x1122334455667788, 9, &in)
			require.Len(t, b, tc.size)
			h, err := ParseHeader(b)
			require.NoError(t, err)
			assert.Equal(t, Header{ConnID: 0x1122334455667788, Action: ActionAnnounce, TxID: 9}, h)
			var out Announce
			require.NoError(t, ParseAnnounce(b, &out, make([]byte, 0, MaxURLData)))
			want := in
			want.URLData = []byte(tc.urlData[:min(len(tc.urlData), MaxURLData)])
			if len(want.URLData) == 0 {
				want.URLData = []byte{}
			}
			assert.Equal(t, want, out)
		})
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []byte
		want string
	}{
		{"none", nil, ""},
		{"end first", []byte{0, 2, 1, 'x'}, ""},
		{"nops then data", []byte{1, 1, 2, 2, 'a', 'b', 0}, "ab"},
		{"two data options", []byte{2, 1, 'a', 2, 2, 'b', 'c'}, "abc"},
		{"unknown type skipped by its length", []byte{9, 1, 'z', 2, 1, 'q'}, "q"},
		{"truncated option ends the list", []byte{2, 1, 'a', 2, 5, 'b'}, "a"},
		{"lone type byte", []byte{2}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, string(parseOptions(tc.opts, nil)))
		})
	}
}

func TestScrapeHashes(t *testing.T) {
	hs := make([][20]byte, MaxScrapeHashes)
	for i := range hs {
		hs[i][0] = byte(i)
	}
	tests := []struct {
		name string
		pkt  []byte
		n    int
		err  error
	}{
		{"one", AppendScrape(nil, 5, 1, hs[:1]), 1, nil},
		{"most", AppendScrape(nil, 5, 1, hs), MaxScrapeHashes, nil},
		{"too many", append(AppendScrape(nil, 5, 1, hs), hs[0][:]...), 0, ErrTooMany},
		{"none", AppendScrape(nil, 5, 1, nil), 0, ErrShort},
		{"ragged", AppendScrape(nil, 5, 1, hs[:2])[:HeaderSize+30], 0, ErrScrapeLength},
		{"header cut", []byte{1, 2, 3}, 0, ErrShort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ScrapeHashes(tc.pkt)
			require.ErrorIs(t, err, tc.err)
			assert.Equal(t, tc.n*20, len(got))
			if tc.n > 0 {
				assert.Equal(t, hs[tc.n-1][:], got[len(got)-20:])
			}
		})
	}
}

func TestReplies(t *testing.T) {
	b := AppendConnectReply(nil, 7, 0xabcdef)
	body, err := ParseReply(b, 7, ActionConnect)
	require.NoError(t, err)
	id, err := ParseConnectReply(body)
	require.NoError(t, err)
	assert.Equal(t, uint64(0xabcdef), id)

	_, err = ParseReply(b, 8, ActionConnect)
	assert.ErrorIs(t, err, ErrTransaction)
	_, err = ParseReply(b, 7, ActionAnnounce)
	assert.ErrorIs(t, err, ErrAction)
	_, err = ParseReply(b[:7], 7, ActionConnect)
	assert.ErrorIs(t, err, ErrShort)

	_, err = ParseReply(AppendError(nil, 7, "go away"), 7, ActionAnnounce)
	var er *ErrorReply
	require.ErrorAs(t, err, &er)
	assert.Equal(t, "go away", er.Message)

	peers4 := []netip.AddrPort{netip.MustParseAddrPort("10.1.2.3:80"), netip.MustParseAddrPort("127.0.0.5:65535")}
	b = AppendAnnounceReply(nil, 3, 1800, Counts{Seeders: 4, Leechers: 5})
	for _, p := range peers4 {
		b = AppendPeer(b, p)
	}
	b = AppendPeer(b, netip.MustParseAddrPort("10.9.9.9:0")) // skipped: port 0
	body, err = ParseReply(b, 3, ActionAnnounce)
	require.NoError(t, err)
	ar, err := ParseAnnounceReply(body)
	require.NoError(t, err)
	assert.Equal(t, uint32(1800), ar.Interval)
	assert.Equal(t, uint32(4), ar.Seeders)
	assert.Equal(t, uint32(5), ar.Leechers)
	got, err := AppendPeers(nil, ar.Peers, false)
	require.NoError(t, err)
	assert.Equal(t, peers4, got)
	_, err = AppendPeers(nil, ar.Peers[:12], true)
	assert.ErrorIs(t, err, ErrPeersLength)

	p6 := netip.MustParseAddrPort("[2001:db8::1]:6881")
	got, err = AppendPeers(nil, AppendPeer(nil, p6), true)
	require.NoError(t, err)
	assert.Equal(t, []netip.AddrPort{p6}, got)

	b = AppendReplyHeader(nil, ActionScrape, 4)
	b = AppendScrapeCounts(b, Counts{1, 2, 3})
	b = AppendScrapeCounts(b, Counts{4, 5, 6})
	body, err = ParseReply(b, 4, ActionScrape)
	require.NoError(t, err)
	cs, err := ParseScrapeReply(nil, body)
	require.NoError(t, err)
	assert.Equal(t, []Counts{{1, 2, 3}, {4, 5, 6}}, cs)
	_, err = ParseScrapeReply(nil, body[:13])
	assert.ErrorIs(t, err, ErrScrapeLength)
}

// FuzzParseRequest feeds arbitrary packets to every server-side decoder: none may panic, and
// an announce that parses re-encodes to a packet that parses the same.
func FuzzParseRequest(f *testing.F) {
	f.Add(AppendConnect(nil, 1))
	f.Add(AppendAnnounce(nil, 2, 3, &Announce{Port: 1, URLData: []byte("/announce?x=1")}))
	f.Add(AppendScrape(nil, 2, 3, [][20]byte{{1}, {2}}))
	f.Add(append(AppendAnnounce(nil, 2, 3, &Announce{}), 2, 200, 'a'))
	f.Add([]byte{})
	url := make([]byte, 0, MaxURLData)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, err := ParseHeader(pkt)
		if err != nil {
			return
		}
		_ = CheckConnect(h)
		if hs, err := ScrapeHashes(pkt); err == nil && (len(hs)%20 != 0 || len(hs) > 20*MaxScrapeHashes) {
			t.Fatalf("scrape of %d bytes", len(hs))
		}
		var a Announce
		if ParseAnnounce(pkt, &a, url) != nil {
			return
		}
		if len(a.URLData) > MaxURLData {
			t.Fatalf("%d bytes of url data", len(a.URLData))
		}
		again := AppendAnnounce(nil, h.ConnID, h.TxID, &a)
		var b Announce
		require.NoError(t, ParseAnnounce(again, &b, nil))
		if !bytes.Equal(a.URLData, b.URLData) || a.InfoHash != b.InfoHash || a.Port != b.Port || a.Left != b.Left {
			t.Fatalf("round trip: %+v != %+v", a, b)
		}
	})
}

// FuzzParseReply feeds arbitrary packets to the client-side decoders.
func FuzzParseReply(f *testing.F) {
	f.Add(AppendConnectReply(nil, 1, 2), false)
	f.Add(AppendPeer(AppendAnnounceReply(nil, 1, 60, Counts{}), netip.MustParseAddrPort("1.2.3.4:5")), false)
	f.Add(AppendError(nil, 1, "nope"), true)
	f.Add(AppendScrapeCounts(AppendReplyHeader(nil, ActionScrape, 1), Counts{1, 2, 3}), false)
	f.Fuzz(func(t *testing.T, pkt []byte, ipv6 bool) {
		for _, a := range []Action{ActionConnect, ActionAnnounce, ActionScrape} {
			body, err := ParseReply(pkt, 1, a)
			if err != nil {
				continue
			}
			_, _ = ParseConnectReply(body)
			if ar, err := ParseAnnounceReply(body); err == nil {
				peers, _ := AppendPeers(nil, ar.Peers, ipv6)
				if len(peers) > len(ar.Peers)/6 {
					t.Fatalf("%d peers from %d bytes", len(peers), len(ar.Peers))
				}
			}
			cs, _ := ParseScrapeReply(nil, body)
			if len(cs) > len(body)/12 {
				t.Fatalf("%d counts from %d bytes", len(cs), len(body))
			}
		}
	})
}
