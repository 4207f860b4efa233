package metainfo

import (
	"crypto/sha1"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetaInfoMagnet(t *testing.T) {
	m, err := Load("../testdata/mktorrent-multi.torrent")
	require.NoError(t, err)
	want := "magnet:?xt=urn:btih:" + m.InfoHash.String() + "&dn=multi" +
		"&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce" +
		"&tr=http%3A%2F%2F127.0.0.2%3A6969%2Fannounce" +
		"&tr=http%3A%2F%2F127.0.0.3%3A6969%2Fannounce" +
		"&ws=http%3A%2F%2F127.0.0.1%3A8080%2F"
	assert.Equal(t, want, m.Magnet())

	mg, err := ParseMagnet(m.Magnet())
	require.NoError(t, err)
	assert.Equal(t, m.InfoHash, mg.InfoHash)
	assert.Equal(t, "multi", mg.Name)
	assert.Len(t, mg.Trackers, 3)
}

func TestParseMagnet(t *testing.T) {
	const hexHash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
	want, err := HashFromHex(hexHash)
	require.NoError(t, err)
	tests := []struct {
		name, link string
		want       Magnet
		errMsg     string
	}{
		{"hex", "magnet:?xt=urn:btih:" + hexHash, Magnet{InfoHash: want}, ""},
		{"upper-case hex and scheme", "MAGNET:?xt=URN:BTIH:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A", Magnet{InfoHash: want}, ""},
		{"base32", "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK", Magnet{InfoHash: want}, ""},
		{"lower-case base32", "magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek", Magnet{InfoHash: want}, ""},
		{"all fields", "magnet:?dn=My+File%21&xt=urn:btih:" + hexHash + "&tr=http%3A%2F%2Fa%2Fann&tr=udp://b:1&ws=http://w/&x.pe=127.0.0.1:6881",
			Magnet{InfoHash: want, Name: "My File!", Trackers: []string{"http://a/ann", "udp://b:1"},
				WebSeeds: []string{"http://w/"}, Peers: []string{"127.0.0.1:6881"}}, ""},
		{"hybrid takes btih", "magnet:?xt=urn:btmh:1220aabb&xt=urn:btih:" + hexHash, Magnet{InfoHash: want}, ""},
		{"v2 only", "magnet:?xt=urn:btmh:1220aabb", Magnet{}, "xt: only a v2 info-hash (urn:btmh:)"},
		{"other urn", "magnet:?xt=urn:sha1:abc", Magnet{}, `xt "urn:sha1:abc": not urn:btih:`},
		{"unknown params ignored", "magnet:?xt=urn:btih:" + hexHash + "&xl=10&as=http://x&kt=a", Magnet{InfoHash: want}, ""},
		{"ipv6 peer", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=[::1]:6881", Magnet{InfoHash: want, Peers: []string{"[::1]:6881"}}, ""},
		{"host name peer", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=localhost:6881", Magnet{InfoHash: want, Peers: []string{"localhost:6881"}}, ""},
		{"peer without port", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=127.0.0.1", Magnet{}, `x.pe "127.0.0.1": want host:port`},
		{"peer port 0", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=127.0.0.1:0", Magnet{}, `x.pe "127.0.0.1:0": bad port "0"`},
		{"peer port too big", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=127.0.0.1:70000", Magnet{}, `x.pe "127.0.0.1:70000": bad port`},
		{"peer no host", "magnet:?xt=urn:btih:" + hexHash + "&x.pe=:80", Magnet{}, `x.pe ":80": no host`},
		{"tracker not a URL", "magnet:?xt=urn:btih:" + hexHash + "&tr=tracker.example", Magnet{}, `tr "tracker.example": want a http, https, udp URL`},
		{"tracker bad scheme", "magnet:?xt=urn:btih:" + hexHash + "&tr=wss://t/a", Magnet{}, `tr "wss://t/a": want a`},
		{"web seed udp", "magnet:?xt=urn:btih:" + hexHash + "&ws=udp://w:1", Magnet{}, `ws "udp://w:1": want a http, https URL`},
		{"no xt", "magnet:?dn=x", Magnet{}, "no xt=urn:btih: info-hash"},
		{"short hash", "magnet:?xt=urn:btih:abcd", Magnet{}, "want 40 hex or 32 base32 characters"},
		{"bad hex", "magnet:?xt=urn:btih:" + "zz" + hexHash[2:], Magnet{}, "invalid byte"},
		{"long hash", "magnet:?xt=urn:btih:" + hexHash + "00", Magnet{}, "want 40 hex or 32 base32 characters"},
		{"bad base32", "magnet:?xt=urn:btih:1111111111111111111111111111111Y", Magnet{}, "illegal base32 data"},
		{"not magnet", "http://example.com/?xt=urn:btih:" + hexHash, Magnet{}, "does not start with magnet:?"},
		{"bad escape", "magnet:?xt=urn:btih:" + hexHash + "&dn=%zz", Magnet{}, "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMagnet(tt.link)
			if tt.errMsg != "" {
				require.ErrorIs(t, err, ErrMagnet)
				assert.Contains(t, err.Error(), tt.errMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMagnetStringRoundTrip(t *testing.T) {
	mg := Magnet{Name: "a b&c=d", Trackers: []string{"http://t/a?x=1&y=2"}, Peers: []string{"[::1]:6881"}}
	mg.InfoHash[0] = 0xab
	back, err := ParseMagnet(mg.String())
	require.NoError(t, err)
	assert.Equal(t, mg, back)
}

func TestMagnetPeerAddrs(t *testing.T) {
	mg := Magnet{Peers: []string{"127.0.0.1:1", "[::1]:2", "localhost:3"}}
	assert.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("[::1]:2")}, mg.PeerAddrs())
}

func TestFromMagnet(t *testing.T) {
	m, err := Load("../testdata/mktorrent-multi.torrent")
	require.NoError(t, err)
	mg := Magnet{InfoHash: m.InfoHash, Trackers: []string{"http://a/ann", "udp://b:1"}, WebSeeds: []string{"http://w/"}}
	got, err := FromMagnet(mg, m.InfoBytes)
	require.NoError(t, err)
	assert.Equal(t, m.Info, got.Info)
	assert.Equal(t, [][]string{{"http://a/ann"}, {"udp://b:1"}}, got.Trackers())
	raw, err := got.Marshal()
	require.NoError(t, err)
	back, err := Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, m.InfoHash, back.InfoHash, "the written .torrent has the same info-hash")
	assert.Equal(t, []string{"http://w/"}, back.URLList)

	_, err = FromMagnet(Magnet{InfoHash: Hash{1}}, m.InfoBytes)
	require.ErrorIs(t, err, ErrMagnet)
	bad := []byte("d4:name1:ae")
	_, err = FromMagnet(Magnet{InfoHash: sha1.Sum(bad)}, bad)
	require.Error(t, err)
}
