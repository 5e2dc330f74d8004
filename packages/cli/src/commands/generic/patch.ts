import { send, type WriteOptions } from './write.js';

export async function run(path: string, args: string[], options: WriteOptions): Promise<number> {
  return send('PATCH', path, args, options);
}
