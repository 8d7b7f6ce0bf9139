/** Made at build time by `build/emoji-data.ts` (see there). */
declare module 'virtual:emoji-data' {
  const rows: [string, number, string, string, string, string[]?][];
  export default rows;
}
