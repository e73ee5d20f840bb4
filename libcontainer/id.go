package libcontainer

import (
	"fmt"
	"regexp"
)

// maxIDLength keeps an ID usable as a single path component everywhere.
const maxIDLength = 1024

var validID = regexp.MustCompile(`^[\w+\-\.]+$`)

// ValidateID refuses IDs that could escape the state root or are unusable as
// a directory name, before they touch the filesystem.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("container id cannot be empty")
	case len(id) > maxIDLength:
		return fmt.Errorf("invalid container id %.32q...: longer than %d characters", id, maxIDLength)
	case id == "." || id == ".." || !validID.MatchString(id):
		return fmt.Errorf("invalid container id %q: only letters, digits and _ + - . are allowed", id)
	}
	return nil
}
