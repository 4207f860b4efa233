package metainfo

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSkipValue(t *testing.T) {
	tests := []struct {
		in     string
		end    int
		errMsg string
	}{
		{"i0e", 3, ""}, {"i-12e", 5, ""}, {"i9223372036854775807e", 21, ""},
		{"0:", 2, ""}, {"3:abcX", 5, ""}, {"le", 2, ""}, {"de", 2, ""},
		{"d1:ai1e1:bl1:xee", 16, ""}, {"lli1eee", 7, ""},
		{"", 0, "unexpected end of data"},
		{"i01e", 0, `bad integer "01"`},
		{"i-0e", 0, `bad integer "-0"`},
		{"ie", 0, `bad integer ""`},
		{"i-e", 0, `bad integer "-"`},
		{"i1x2e", 0, `bad integer "1x2"`},
		{"i9223372036854775808e", 0, "bad integer"},
		{"i12", 0, "unexpected end of data"},
		{"5:abc", 0, "unexpected end of data"},
		{"05:abcde", 0, "leading zero"},
		{"99999999999:a", 0, "bad string length"},
		{"3abc", 0, "unexpected end of data"},
		{"l", 0, "unexpected end of data"},
		{"d1:a", 0, "unexpected end of data"},
		{"d1:ae", 0, "dictionary key without a value"},
		{"di1ei2ee", 0, "dictionary key is not a string"},
		{"x", 0, "unknown value type 'x'"},
		{strings.Repeat("l", maxScanDepth+1) + strings.Repeat("e", maxScanDepth+1), 0, "nesting deeper than 64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			end, err := skipValue([]byte(tt.in), 0, 0)
			if tt.errMsg != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.errMsg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.end, end)
		})
	}
}

func TestForEachItemAndEntry(t *testing.T) {
	var items []string
	require.NoError(t, forEachItem([]byte("li1e1:xlee"), "f", 10, func(i int, item []byte) error {
		items = append(items, string(item))
		return nil
	}))
	assert.Equal(t, []string{"i1e", "1:x", "le"}, items)

	err := forEachItem([]byte("li1ei2ei3ee"), "f", 2, func(int, []byte) error { return nil })
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, "metainfo: f: more than 2 entries", err.Error())

	err = forEachItem([]byte("li1ei0"), "f", 2, func(int, []byte) error { return nil })
	require.ErrorIs(t, err, ErrSyntax)
	assert.Equal(t, "metainfo: f: unexpected end of data", err.Error())

	keys := map[string]string{}
	require.NoError(t, forEachEntry([]byte("d1:ai1e1:bli2eee"), func(k string, v []byte) error {
		keys[k] = string(v)
		return nil
	}))
	assert.Equal(t, map[string]string{"a": "i1e", "b": "li2ee"}, keys)
	err = forEachEntry([]byte("d1:ai1eeXX"), func(string, []byte) error { return nil })
	require.ErrorIs(t, err, ErrSyntax)
	assert.Contains(t, err.Error(), "2 bytes of trailing data")
}

func TestPrefixErr(t *testing.T) {
	tests := []struct{ inner, want string }{
		{"", "info.files[3]"}, {"[2]", "info.files[3][2]"}, {"path[0]", "info.files[3].path[0]"},
	}
	for _, tt := range tests {
		err := prefixErr("info.files[3]", fieldErr(ErrInvalid, tt.inner, "x"))
		assert.Equal(t, "metainfo: "+tt.want+": x", err.Error())
	}
}

// BenchmarkParseManyFiles parses a torrent of 100,000 files: the cost a hostile torrent near
// the MaxFiles cap can impose is ten times this.
func BenchmarkParseManyFiles(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("d4:infod5:filesl")
	for i := range 100_000 {
		p := fmt.Sprintf("%07d", i)
		fmt.Fprintf(&sb, "d6:lengthi0e4:pathl3:dir%d:%see", len(p), p)
	}
	sb.WriteString("e4:name1:x12:piece lengthi16384e6:pieces0:ee")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
