#!/bin/sh
# Good lines among garbage: text, binary bytes, a NUL, a 70000-byte line, and
# more bad lines than are logged.
echo "good_one 1"
echo "not a metric line"
printf '\001\002\377\376 binary\n'
printf 'nul\000inside 1\n'
head -c 70000 /dev/zero | tr '\000' a
echo
i=0
while [ $i -lt 15 ]; do
    echo "bad line $i"
    i=$((i + 1))
done
echo "good_two 2"
