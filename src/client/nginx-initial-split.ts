import { parseArgs } from 'node:util';
import { renderSplit } from '../providers/nginx/render-split';
import { headerName, routeName } from '../spec/traffic';
import { versionName } from '../spec/patterns';

const USAGE = `usage: npm run --silent nginx:initial-split -- --version V --upstream NAME [--variable VAR]
                                          [--cookie NAME | --header NAME] > include-file.conf

Prints the stable-only include file the nginx traffic provider expects before its first step:
nginx does not start without it, and a blue-green rollout reads the live version from it.
  --version   the version live now (e.g. v1)
  --upstream  the upstream it runs on (e.g. blue)
  --variable  the spec's traffic.variable (default rollout_upstream)
  --cookie    the spec's cohort cookie (default rollout_user), or
  --header    the spec's cohort header`;

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        version: { type: 'string' },
        upstream: { type: 'string' },
        variable: { type: 'string', default: 'rollout_upstream' },
        cookie: { type: 'string' },
        header: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const version = versionName.safeParse(values.version);
  const upstream = routeName.safeParse(values.upstream);
  const header = values.header === undefined ? undefined : headerName.safeParse(values.header);
  if (
    !version.success ||
    !upstream.success ||
    header?.success === false ||
    (values.cookie && values.header)
  ) {
    process.stderr.write(`--version and --upstream are required and must be plain names\n${USAGE}\n`);
    return 2;
  }
  const cohort = header?.success ? { header: header.data } : { cookie: values.cookie ?? 'rollout_user' };
  try {
    process.stdout.write(
      renderSplit(
        {
          stable: { version: version.data, targets: [], routes: [upstream.data] },
          canary: null,
          canaryWeight: 0,
        },
        { variable: values.variable, cohort },
      ),
    );
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
