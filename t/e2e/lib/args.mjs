// The command lines of the end-to-end scripts: --name value options into
// an object, --help, and a usage error that exits 2.

// options: {"--url": "url", "--wait": ["wait", Number], ...}; defaults:
// the object the values go into; check(opt) returns an error or nothing
export function parseArgs(argv, { name, usage, options, defaults, check }) {
    const fail = (msg) => {
        console.error(`${name}: ${msg}\n\n${usage}`);
        process.exit(2);
    };
    const opt = { ...defaults };

    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '-h' || a === '--help') {
            console.log(usage);
            process.exit(0);
        }
        const spec = options[a];
        if (spec === undefined) {
            fail(`unknown argument ${a}`);
        }
        if (i + 1 >= argv.length) {
            fail(`${a} needs a value`);
        }
        const [key, conv] = Array.isArray(spec) ? spec : [spec, String];
        opt[key] = conv(argv[++i]);
    }

    const error = check ? check(opt) : undefined;
    if (error) {
        fail(error);
    }
    try {
        opt.url = new URL(opt.url);
    } catch {
        fail(`not a URL: ${opt.url}`);
    }
    return opt;
}
