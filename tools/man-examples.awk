# man-examples.awk: the EXAMPLES of an mdoc page as a shell script and its
# expected output.  Each literal block's "$ " lines (with their continuation
# lines) become commands; the other lines are what they print.  Writes the
# script to stdout and the expected output to the file named by -v want=.
function unescape(s) {
	gsub(/\\e/, "\\", s)
	gsub(/\\-/, "-", s)
	gsub(/\\&/, "", s)
	return s
}
/^\.Sh EXAMPLES/ { on = 1; next }
/^\.Sh / { on = 0 }
!on { next }
/^\.Bd -literal/ { lit = 1; next }
/^\.Ed/ { lit = 0; cont = 0; next }
!lit { next }
{
	line = unescape($0)
	if (cont) {
		print line
		cont = line ~ /(\||\\)$/
		next
	}
	if (line ~ /^\$ /) {
		n++
		print "echo '### " n "'"
		print "### " n > want
		print substr(line, 3)
		cont = line ~ /(\||\\)$/
		next
	}
	print line > want
}
