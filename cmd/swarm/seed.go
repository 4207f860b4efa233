package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSeedCmd is a placeholder until its package lands.
func newSeedCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "seed",
		Short: "not implemented yet",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("seed: not implemented yet")
		},
	}
}
