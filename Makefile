# The two commands of the README. Both install what is missing first.
.PHONY: serve test build bench

serve:
	@bash scripts/serve.sh

test:
	@bash scripts/test.sh

build:
	@bash -c '. scripts/setup.sh && trunk build --release --offline'

bench:
	@bash scripts/bench.sh
