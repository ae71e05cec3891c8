import { sha256 } from './checksums.js';

// A flat Debian repository (`deb file:/dir/ /`) over the .deb files of a bundle, as pure
// functions: each Packages stanza is the package's own control fields plus where the file
// is and its size and hashes, which apt checks when it installs from the directory.

export function packagesStanza(control: string, file: string, data: Buffer): string {
  const fields = control.replace(/\n+$/, '').split('\n').filter((l) => !/^(Filename|Size|MD5sum|SHA1|SHA256|SHA512):/.test(l));
  const md5 = process.getBuiltinModule('node:crypto').createHash('md5').update(data).digest('hex');
  return [...fields, `Filename: ./${file}`, `Size: ${data.length}`, `MD5sum: ${md5}`, `SHA256: ${sha256(data)}`, ''].join('\n');
}

// Release with the index hashes apt verifies even for a trusted=yes source.
export function releaseFile(indexes: Record<string, Buffer>, date = new Date()): string {
  const rows = (algo: 'md5' | 'sha256') => Object.entries(indexes).map(([f, d]) => ` ${process.getBuiltinModule('node:crypto').createHash(algo).update(d).digest('hex')} ${d.length} ${f}`);
  return ['Origin: joinagent-bundle', 'Label: joinagent-bundle', `Date: ${date.toUTCString().replace('GMT', 'UTC')}`, 'MD5Sum:', ...rows('md5'), 'SHA256:', ...rows('sha256'), ''].join('\n');
}
