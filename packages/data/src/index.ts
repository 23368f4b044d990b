/** @aruna/data */
export {}
