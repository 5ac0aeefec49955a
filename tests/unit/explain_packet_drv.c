// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc explain's PACKET parser and builder for test_explain_packet.py:
 *   explain_packet_drv WORD...
 * prints "ok<TAB>normalized<TAB>frame hex" (MACs 02:00:00:00:00:01), or
 * "error<TAB>input<TAB>reason" and exits 2.
 */
#include <stdio.h>
#include "explain_packet.h"

int main(int argc, char **argv)
{
	static const __u8 mac[6] = { 2, 0, 0, 0, 0, 1 };
	char input[512], why[256];
	struct xtc_packet p;
	__u8 frame[256];
	int n, i;

	if (xtc_packet_parse(argv + 1, argc - 1, &p, input, sizeof(input), why, sizeof(why))) {
		printf("error\t%s\t%s\n", input, why);
		return 2;
	}
	n = xtc_packet_build(&p, mac, frame, sizeof(frame));
	if (n < 0)
		return 1;
	printf("ok\t%s\t", p.text);
	for (i = 0; i < n; i++)
		printf("%02x", frame[i]);
	printf("\n");
	return 0;
}
