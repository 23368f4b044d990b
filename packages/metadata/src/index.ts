/** @aruna/metadata */
export {}
