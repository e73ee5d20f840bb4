package libcontainer

import "fmt"

// maxIDLength keeps an ID usable as a single path component everywhere.
const maxIDLength = 1024

// ValidateID refuses IDs that could escape the state root or are unusable as
// a directory name, before they touch the filesystem.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("container id cannot be empty")
	case len(id) > maxIDLength:
		return fmt.Errorf("invalid container id %.32q...: longer than %d characters", id, maxIDLength)
	case id == "." || id == ".." || !validIDChars(id):
		return fmt.Errorf("invalid container id %q: only letters, digits and _ + - . are allowed", id)
	}
	return nil
}

// validIDChars: letters, digits and _ + - . only (a loop, not a regexp:
// compiling one costs every casco start ~50 µs).
func validIDChars(id string) bool {
	for _, r := range id {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case r == '_' || r == '+' || r == '-' || r == '.':
		default:
			return false
		}
	}
	return true
}
