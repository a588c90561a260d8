// Command nooutput exits successfully without writing anything, whatever
// outputs it declares. It uses no SDK (which would catch the mistake), so
// the host's own check is what fails it.
package main

import "os"

func main() {
	os.Stdout.WriteString("done, nothing to write\n")
}
