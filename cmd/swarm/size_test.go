package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"262144", 262144, false},
		{"256KiB", 256 << 10, false},
		{"256k", 256 << 10, false},
		{"1.5MB", 1_500_000, false},
		{"2MiB", 2 << 20, false},
		{"16 MiB", 16 << 20, false},
		{"1g", 1 << 30, false},
		{"0", 0, false},
		{"", 0, true},
		{"-1", 0, true},
		{"abc", 0, true},
		{"1e30TiB", 0, true},
		{"NaN", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRate(t *testing.T) {
	got, err := parseRate("512KiB/s")
	require.NoError(t, err)
	assert.Equal(t, int64(512<<10), got)
	got, err = parseRate("2MB/s")
	require.NoError(t, err)
	assert.Equal(t, int64(2_000_000), got)
	_, err = parseRate("fast")
	assert.ErrorContains(t, err, "rate")
}
