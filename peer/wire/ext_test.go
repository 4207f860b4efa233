package wire

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtHandshakeRoundTrip(t *testing.T) {
	h := ExtHandshake{
		M: map[string]int{ExtMetadata: 3, ExtPEX: 1}, V: "swarm 0.1", Port: 6881, Reqq: 500,
		MetadataSize: 31235, YourIP: netip.MustParseAddr("127.0.0.2"), UploadOnly: true,
	}
	got, err := ParseExtHandshake(h.Marshal())
	require.NoError(t, err)
	assert.Equal(t, h, got)
	assert.Equal(t, []string{"ut_metadata", "ut_pex"}, got.Names())

	h6 := ExtHandshake{M: map[string]int{}, YourIP: netip.MustParseAddr("::1")}
	got, err = ParseExtHandshake(h6.Marshal())
	require.NoError(t, err)
	assert.Equal(t, h6, got)
}

func TestParseExtHandshake(t *testing.T) {
	tests := []struct {
		name, in string
		want     ExtHandshake
		err      string
	}{
		{"libtorrent", "d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei1000e1:pi6881e4:reqqi500e1:v16:libtorrent 2.0.8e",
			ExtHandshake{M: map[string]int{"ut_metadata": 2, "ut_pex": 1}, MetadataSize: 1000, Port: 6881, Reqq: 500, V: "libtorrent 2.0.8"}, ""},
		{"disabled extension", "d1:md6:ut_pexi0eee", ExtHandshake{M: map[string]int{"ut_pex": 0}}, ""},
		{"unknown keys and extensions ignored", "d1:md5:lt_xxi9ee3:fooli1eee", ExtHandshake{M: map[string]int{"lt_xx": 9}}, ""},
		{"wrong types ignored", "d1:md6:ut_pex3:abce1:p3:abc4:reqqi-1e13:metadata_sizei-5e1:vi3e6:yourip3:abce", ExtHandshake{M: map[string]int{}}, ""},
		{"id out of range ignored", "d1:md6:ut_pexi256e11:ut_metadatai-1eee", ExtHandshake{M: map[string]int{}}, ""},
		{"m not a dict", "d1:mi3ee", ExtHandshake{M: map[string]int{}}, ""},
		{"port out of range", "d1:pi70000ee", ExtHandshake{M: map[string]int{}}, ""},
		{"empty dict", "de", ExtHandshake{M: map[string]int{}}, ""},
		{"not a dict", "li1ee", ExtHandshake{}, "not a dictionary"},
		{"empty", "", ExtHandshake{}, "not a dictionary"},
		{"truncated", "d1:md6:ut_pexi1e", ExtHandshake{}, "bad extension message"},
		{"trailing bytes", "dexx", ExtHandshake{}, "2 bytes after the dictionary"},
		{"huge string", "d1:v99999999:x", ExtHandshake{}, "bad extension message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtHandshake([]byte(tt.in))
			if tt.err != "" {
				require.ErrorIs(t, err, ErrExtension)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMetadataMsg(t *testing.T) {
	data := bytes.Repeat([]byte{'x'}, MetadataPieceSize)
	for _, m := range []MetadataMsg{
		{Type: MetadataRequest, Piece: 3},
		{Type: MetadataReject, Piece: 0},
		{Type: MetadataData, Piece: 1, TotalSize: 40000, Data: data},
		{Type: MetadataData, Piece: 2, TotalSize: 40000, Data: []byte("d4:name1:ae")},
	} {
		got, err := ParseMetadataMsg(m.Marshal())
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	tests := []struct{ name, in, err string }{
		{"bad type", "d8:msg_typei3e5:piecei0ee", "bad msg_type"},
		{"no type", "d5:piecei0ee", "bad msg_type"},
		{"negative piece", "d8:msg_typei0e5:piecei-1ee", "bad piece"},
		{"piece beyond the cap", "d8:msg_typei0e5:piecei4096ee", "bad piece"},
		{"request with data", "d8:msg_typei0e5:piecei0eexx", "2 bytes after a request"},
		{"data without bytes", "d8:msg_typei1e5:piecei0e10:total_sizei5ee", "piece of 0 bytes"},
		{"data without total", "d8:msg_typei1e5:piecei0eex", "bad total_size"},
		{"total 2^40", "d8:msg_typei1e5:piecei0e10:total_sizei1099511627776eex", "bad total_size"},
		{"data too long", "d8:msg_typei1e5:piecei0e10:total_sizei99999ee" + strings.Repeat("x", MetadataPieceSize+1), "piece of 16385 bytes"},
		{"not a dict", "i1e", "not a dictionary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMetadataMsg([]byte(tt.in))
			require.ErrorIs(t, err, ErrExtension)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
	assert.Equal(t, 0, MetadataPieces(0))
	assert.Equal(t, 1, MetadataPieces(1))
	assert.Equal(t, 1, MetadataPieces(MetadataPieceSize))
	assert.Equal(t, 2, MetadataPieces(MetadataPieceSize+1))
}

func TestPEXRoundTrip(t *testing.T) {
	p := PEX{
		Added: []PEXPeer{
			{Addr: netip.MustParseAddrPort("127.0.0.2:6881"), Flags: PEXSeed | PEXReachable},
			{Addr: netip.MustParseAddrPort("[::1]:6882"), Flags: PEXEncryption},
			{Addr: netip.MustParseAddrPort("127.0.0.3:1")},
		},
		Dropped: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:99"), netip.MustParseAddrPort("[fe80::1]:7")},
	}
	got, err := ParsePEX(p.Marshal())
	require.NoError(t, err)
	assert.ElementsMatch(t, p.Added, got.Added)
	assert.ElementsMatch(t, p.Dropped, got.Dropped)

	// added.f is present (and empty) even with no peers: libtorrent wants it.
	assert.Equal(t, "d5:added0:7:added.f0:7:dropped0:e", string(PEX{}.Marshal()))
}

func TestParsePEX(t *testing.T) {
	tests := []struct {
		name, in string
		want     PEX
		err      string
	}{
		{"ipv4 with flags", "d5:added6:\x7f\x00\x00\x02\x1a\xe17:added.f1:\x02e",
			PEX{Added: []PEXPeer{{netip.MustParseAddrPort("127.0.0.2:6881"), PEXSeed}}}, ""},
		{"flags of the wrong length are zero", "d5:added6:\x7f\x00\x00\x02\x1a\xe17:added.f2:\x02\x02e",
			PEX{Added: []PEXPeer{{netip.MustParseAddrPort("127.0.0.2:6881"), 0}}}, ""},
		{"port 0 left out", "d5:added6:\x7f\x00\x00\x02\x00\x00e", PEX{}, ""},
		{"unspecified left out", "d7:dropped6:\x00\x00\x00\x00\x00\x01e", PEX{}, ""},
		{"bad length", "d5:added5:12345e", PEX{}, "not a multiple of 6"},
		{"bad ipv6 length", "d6:added66:123456e", PEX{}, "not a multiple of 18"},
		{"not a string", "d5:addedi1ee", PEX{}, "added is not a string"},
		{"too many", "d5:added" + itoa(6*(MaxPEXPeers+1)) + ":" + strings.Repeat("\x7f\x00\x00\x01\x00\x01", MaxPEXPeers+1) + "e", PEX{}, "more than 500 peers"},
		{"not a dict", "le", PEX{}, "not a dictionary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePEX([]byte(tt.in))
			if tt.err != "" {
				require.ErrorIs(t, err, ErrExtension)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestAllowedFastSet checks the BEP 6 test vectors.
func TestAllowedFastSet(t *testing.T) {
	var ih [20]byte
	for i := range ih {
		ih[i] = 0xaa
	}
	ip := netip.MustParseAddr("80.4.4.200")
	assert.Equal(t, []uint32{1059, 431, 808, 1217, 287, 376, 1188}, AllowedFastSet(ip, ih, 1313, 7))
	assert.Equal(t, []uint32{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}, AllowedFastSet(ip, ih, 1313, 9))
	assert.Equal(t, AllowedFastSet(ip, ih, 1313, 7), AllowedFastSet(netip.MustParseAddr("::ffff:80.4.4.1"), ih, 1313, 7), "/24 and mapped")
	assert.ElementsMatch(t, []uint32{0, 1, 2}, AllowedFastSet(ip, ih, 3, 10), "k capped at the piece count")
	assert.Empty(t, AllowedFastSet(netip.MustParseAddr("::1"), ih, 1313, 7))
	assert.Empty(t, AllowedFastSet(ip, ih, 0, 7))
}

func TestExtendedOverCap(t *testing.T) {
	msg := AppendMessage(nil, Message{ID: Extended, ExtID: 1, Payload: make([]byte, MaxExtendedLen+1)})
	_, err := NewReader(bytes.NewReader(msg), testLimits).ReadMessage()
	var pe *ProtocolError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, pe.Reason, "exceeds the limit")

	msg = AppendMessage(nil, Message{ID: Extended, ExtID: 1, Payload: make([]byte, MaxExtendedLen)})
	m, err := NewReader(bytes.NewReader(msg), testLimits).ReadMessage()
	require.NoError(t, err)
	assert.Len(t, m.Payload, MaxExtendedLen)

	_, err = NewReader(bytes.NewReader(frame(1, byte(Extended))), testLimits).ReadMessage()
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, pe.Reason, "extended message of 1 bytes")
}

func TestAnyBitfield(t *testing.T) {
	in := append(frame(5000, byte(BitfieldID)), make([]byte, 4999)...)
	in = AppendMessage(in, Message{ID: Have, Index: 7})
	r := NewReader(bytes.NewReader(in), Limits{AnyBitfield: true})
	m, err := r.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, Message{ID: BitfieldID}, m)
	m, err = r.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, Message{ID: Have, Index: 7}, m)

	_, err = NewReader(bytes.NewReader(frame(2+MaxAnyBitfield, byte(BitfieldID))), Limits{AnyBitfield: true}).ReadMessage()
	var pe *ProtocolError
	require.ErrorAs(t, err, &pe)
}
