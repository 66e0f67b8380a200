{
  "payloadType": "application/vnd.scbkit.archive+json",
  "payload": "eyJ0eXBlIjoic2Nia2l0LmFyY2hpdmUvMSIsIm5hbWUiOiJ2YWxpZC1wMjU2LnppcCIsInNpemUiOjE1MDEzLCJzaGEyNTYiOiJkZmIxZjllOGU4ODRhZDNmMzY2ZWRiYjAyOWRiZWEwM2ZkODlkMmY5NjQzNGNjOTkzMjJmMDMyZmQyOGZiMjI0In0=",
  "signatures": [
    {
      "keyid": "d7c35ede4bde2e84dcca2bc5d9cd76ac08fc38794b058debee6730a86855411a",
      "sig": "MEUCIEc4CyrRHKPLToBc9ujyPpXHWpk0Xs8m0osfNzK/+nlzAiEAskoWJI2CGC4QCasLniolPLn2cM/hmKRczkPmqBF3sq0="
    }
  ]
}
