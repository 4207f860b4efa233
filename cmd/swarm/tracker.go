package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newTrackerCmd is a placeholder until its package lands.
func newTrackerCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "tracker",
		Short: "not implemented yet",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("tracker: not implemented yet")
		},
	}
}
