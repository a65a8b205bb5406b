// Command controller is a placeholder: the sandbox controller Lambda is written on the sbctl
// branch, whose version of this file replaces this one at merge. It exists only so that the
// sandboxes construct, which bundles this main package, synthesizes on the sbcdk branch.
package main

func main() {
	panic("placeholder: replaced by the sbctl branch")
}
